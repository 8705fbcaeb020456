#!/usr/bin/env bash
# Roll one pypi-template release out to many repositories: one branch (and pull request) each.
#
#   rollout.sh RELEASE ORG [NAME...]    GitHub: every repository of ORG (or the NAMEs only), cloned
#                                       into ./rollout/ORG/, updated, pushed, with a pull request
#   rollout.sh --local RELEASE DIR...   local checkouts: the update committed on a branch of each,
#                                       nothing pushed, no gh
#
# The branch is pypi-template-RELEASE, made from the default branch (GitHub) or the checked-out
# one (--local). Safe to re-run: a repository already on RELEASE is "up to date"; a branch an
# earlier run made is rebuilt, and pushed again (--force-with-lease) only if the update changed; a
# branch someone committed to is left alone. An update left incomplete (conflicts: whatever
# .github/scripts/check_template_sync.py refuses) is committed as it is and gets a draft pull
# request. A refused or failed update does not stop the others: the report at the end gives each
# repository's outcome, and the exit status is 1 if any failed (2: wrong arguments).
#
# Needs bash, git (user.name and user.email set), copier >= 9.15 and python3 on PATH, and
# status.py beside it (its PEP 440 order of releases); GitHub mode needs gh, logged in with a token
# that may push workflow files (gh auth login, or a GitHub App token in GH_TOKEN: not a workflow's
# GITHUB_TOKEN). Copy this folder into the organisation's tooling.
set -uo pipefail # not -e: one repository's failure must not stop the repositories after it

template=${ROLLOUT_TEMPLATE:-pypi-template} # the template repository's name, the last part of _src_path
workdir=${ROLLOUT_DIR:-rollout}             # GitHub mode: the clones, kept for the next run
here=$(CDPATH="" cd -- "$(dirname -- "$0")" && pwd) || exit 2

usage() {
  echo "usage: $0 RELEASE ORG [NAME...]  |  $0 --local RELEASE DIR..." >&2
  exit 2
}

mode=github
if [ "${1:-}" = --local ]; then
  mode=local
  shift
fi
[ $# -ge 2 ] || usage
release=$1
shift
branch="$template-$release"
message="Update $template to $release"

# The outcome of one repository, on file descriptor 3 (the caller captures it).
say() { printf '%s\n' "$*" >&3; }

# git with gh as its one credential helper, as `gh repo clone` runs git for the clone alone: with a
# token in GH_TOKEN (a workflow's) and no `gh auth setup-git`, fetch and push authenticate too.
gh_git() { git -c credential.helper= -c 'credential.helper=!gh auth git-credential' "$@"; }

# Whether branch tip $1 is an untouched commit of this script on base $2: one commit, whose tree
# is still the one its message records (an amended or added commit is someone's work).
made_here() {
  [ "$(git rev-list --count "$2..$1")" = 1 ] &&
    [ "$(git log -1 --format=%B "$1" | sed -n 's/^Rollout-Tree: //p')" = "$(git rev-parse "$1^{tree}")" ]
}

# Whether the recorded _commit $1 comes after release $2, in copier's order (a canary on v1.4.0rc1
# when v1.3.1 is rolled out, or a commit after the release's tag): copier refuses to go back.
# Exits 0 (after), 3 (not after), anything else when it cannot tell (no status.py beside this file).
after_release() {
  python3 -I - "$here" "$1" "$2" <<'PYTHON'
import re, sys
sys.path.insert(0, sys.argv[1])
from status import parse_version
recorded, release = sys.argv[2:]
base = re.sub(r"-[0-9]+-g[0-9a-f]+$", "", recorded)  # `git describe`: a commit after tag `base`
old, new = parse_version(base), parse_version(release)
sys.exit(0 if old and new and (old > new or (old == new and base != recorded)) else 3)
PYTHON
}

# The first line of copier's error, from its output in file $1.
reason() {
  local line
  line=$(grep -E '^[A-Za-z_.]*(Error|Exception): ' "$1" | tail -n 1)
  [ -n "$line" ] || line=$(grep -v '^[[:space:]]*$' "$1" | tail -n 1)
  printf '%s\n' "${line:-no message}"
}

# In the repository's folder: the update of base $1 (a commit), given the tip $2 of this branch
# from an earlier run (or ""). Returns 0 with $commit set to the new commit, or to "" when that
# tip already holds the update (with $3 = reuse, a tip made here on this very base is taken as
# it is, copier not run), and $incomplete to yes, no or unknown; returns 1 after saying why it
# stops (not generated from the template, up to date, left alone, refused), with $result set to
# ok or failed. $4: the state of the branch's pull request if it is closed or merged (never
# pushed to again).
build_update() {
  local base=$1 tip=$2 answers log tree recorded
  commit="" incomplete=unknown result=ok
  answers=$(git show "$base:.copier-answers.yml" 2>/dev/null)
  # The repository's name exactly (a URL, gh:ORG/NAME or a path): not acme/pypi-template-docs.
  if ! printf '%s\n' "$answers" | grep -qE "^_src_path: (.*[/:])?${template//./\\.}(\.git)?/?\$"; then
    say "skipped: not generated from $template"
    return 1
  fi
  recorded=$(printf '%s\n' "$answers" | sed -n 's/^_commit: //p')
  if [ "$recorded" = "$release" ]; then
    say "up to date: already on $release"
    return 1
  fi
  if [ -n "$recorded" ]; then
    after_release "$recorded" "$release"
    case $? in
      0) say "up to date: already on $recorded, after $release"; return 1 ;;
      3) ;;
      *) result=failed; say "FAILED: cannot order $recorded and $release (is fleet/status.py beside rollout.sh?)"; return 1 ;;
    esac
  fi
  if [ -n "$tip" ] && ! made_here "$tip" "$base"; then
    say "left alone: $branch has commits made by hand"
    return 1
  fi
  if [ -n "${4:-}" ]; then
    say "left alone: the pull request of $branch is $4"
    return 1
  fi
  if [ "${3:-}" = reuse ] && [ -n "$tip" ] && [ "$(git rev-parse "$tip^")" = "$base" ]; then
    # The same release on the same base: copier would make the same commit, whose check it records.
    incomplete=$(git log -1 --format=%B "$tip" | sed -n 's/^Rollout-Incomplete: //p')
    [ -n "$incomplete" ] || incomplete=unknown
    return 0
  fi
  result=failed
  git switch --quiet --detach "$base" || { say "FAILED: cannot check out $base"; return 1; }
  log=$(mktemp) || { say "FAILED: mktemp"; return 1; }
  copier update --defaults --vcs-ref "$release" </dev/null 2>"$log"
  local status=$?
  cat "$log" >&2
  if [ "$status" != 0 ]; then
    say "FAILED: copier update: $(reason "$log")"
    rm -f "$log"
    git reset --quiet --hard && git clean --quiet -d --force
    return 1
  fi
  rm -f "$log"
  incomplete=no
  if [ -f .github/scripts/check_template_sync.py ] && ! python3 .github/scripts/check_template_sync.py >&2; then
    incomplete=yes
  fi
  { git add --all && tree=$(git write-tree) && git reset --quiet --hard; } || { say "FAILED: git add"; return 1; }
  if [ -n "$tip" ] && [ "$tree" = "$(git rev-parse "$tip^{tree}")" ]; then
    return 0 # the branch already holds this very update
  fi
  commit=$(git commit-tree "$tree" -p "$base" -m "$message" -m "Rollout-Tree: $tree" -m "Rollout-Incomplete: $incomplete") ||
    { say "FAILED: git commit-tree"; return 1; }
}

# GitHub mode, one repository (ORG/NAME): clone or fetch, update, push, open a pull request.
update_github() {
  local repo=$1 dir="$workdir/$1" default tip state reuse closed url
  if [ -d "$dir/.git" ]; then
    { gh_git -C "$dir" fetch --quiet --prune origin && gh_git -C "$dir" remote set-head origin --auto >/dev/null; } ||
      { say "FAILED: git fetch"; return 1; }
  else
    gh repo clone "$repo" "$dir" -- --quiet || { say "FAILED: gh repo clone"; return 1; }
  fi
  cd "$dir" || { say "FAILED: no folder $dir"; return 1; }
  default=$(git symbolic-ref --short refs/remotes/origin/HEAD) || { say "FAILED: no default branch"; return 1; }
  # What an earlier run left in this clone is dropped: the clone is this script's.
  { git switch --quiet --discard-changes --detach "$default" && git clean --quiet -d -x --force; } ||
    { say "FAILED: cannot reset the clone"; return 1; }
  tip=$(git rev-parse --quiet --verify "refs/remotes/origin/$branch^{commit}")
  state="" reuse=no closed=""
  if [ -n "$tip" ]; then
    state=$(gh pr view "$branch" --repo "$repo" --json state --jq .state 2>/dev/null)
    [ "$state" != OPEN ] || reuse=reuse # a missing pull request needs to know whether to be a draft
    [ -z "$state" ] || [ "$state" = OPEN ] || closed=$state
  fi
  build_update "$(git rev-parse "$default")" "$tip" "$reuse" "$closed" || { [ "$result" = ok ]; return; }
  if [ -n "$commit" ]; then
    gh_git push --quiet --force-with-lease="refs/heads/$branch:$tip" origin "$commit:refs/heads/$branch" ||
      { say "FAILED: git push"; return 1; }
  fi
  if [ "$state" = OPEN ]; then
    # A draft exactly while the update fails check_template_sync.py, as a new one is opened: on
    # every run, so a draft marked ready by hand (or a failed earlier change) is put right.
    case $incomplete in
      yes) gh pr ready --undo "$branch" --repo "$repo" >&2 || { say "FAILED: gh pr ready --undo${commit:+ ($branch is pushed)}"; return 1; } ;;
      no) gh pr ready "$branch" --repo "$repo" >&2 || { say "FAILED: gh pr ready${commit:+ ($branch is pushed)}"; return 1; } ;;
    esac
    if [ -z "$commit" ]; then
      say "up to date: $branch already holds this update"
    elif [ "$incomplete" = yes ]; then
      say "pull request updated as a draft, check_template_sync.py fails (resolve it on the branch): $branch rebuilt and pushed"
    else
      say "pull request updated: $branch rebuilt and pushed"
    fi
  else
    local args=(pr create --repo "$repo" --head "$branch" --base "${default#origin/}" --title "$message"
      --body "\`copier update --defaults --vcs-ref $release\`, made by rollout.sh: read the release's changelog entry before merging.")
    [ "$incomplete" = no ] || args+=(--draft) # not merged by accident before someone resolves it
    url=$(gh "${args[@]}") || { say "FAILED: gh pr create ($branch is pushed)"; return 1; }
    if [ "$incomplete" = no ]; then
      say "pull request opened: $url"
    else
      say "draft pull request opened, check_template_sync.py fails (resolve it on the branch): $url"
    fi
  fi
}

# Local mode, one checkout: the update committed on the branch, then back to the branch it was on.
update_local() {
  local dir=$1 orig tip status dirty
  { cd "$dir" 2>/dev/null && git rev-parse --git-dir >/dev/null 2>&1; } || { say "FAILED: not a git checkout"; return 1; }
  dirty=$(git status --porcelain --untracked-files=all | head -n 3 | cut -c4- | tr '\n' ' ')
  [ -z "$dirty" ] || { say "FAILED: uncommitted changes (${dirty% }): commit or stash them first"; return 1; }
  orig=$(git symbolic-ref --quiet --short HEAD || git rev-parse HEAD)
  tip=$(git rev-parse --quiet --verify "refs/heads/$branch^{commit}")
  build_update "$(git rev-parse HEAD)" "$tip" reuse
  status=$?
  git switch --quiet "$orig" 2>/dev/null || git switch --quiet --detach "$orig"
  [ "$status" = 0 ] || { [ "$result" = ok ]; return; }
  if [ -z "$commit" ]; then
    say "up to date: $branch already holds this update"
  elif git branch --quiet --force "$branch" "$commit"; then
    if [ "$incomplete" = no ]; then
      say "committed on $branch"
    else
      say "committed on $branch, check_template_sync.py fails: resolve it there"
    fi
  else
    say "FAILED: git branch"
    return 1
  fi
}

repos=()
if [ "$mode" = local ]; then
  repos=("$@")
else
  org=$1
  shift
  if [ $# -gt 0 ]; then
    for name in "$@"; do repos+=("$org/$name"); done
  else
    # No --no-archived: that filter makes gh ask GitHub's search, which stops at 1000 repositories
    # without a word; the plain listing pages through them all, and jq drops the archived ones.
    list=$(gh repo list "$org" --limit 100000 --json nameWithOwner,isArchived \
      --jq '.[] | select(.isArchived | not) | .nameWithOwner') ||
      { echo "rollout.sh: cannot list the repositories of $org" >&2; exit 1; }
    while IFS= read -r repo; do [ -z "$repo" ] || repos+=("$repo"); done <<<"$list"
  fi
fi

report=()
failed=0
for repo in ${repos[@]+"${repos[@]}"}; do
  echo "== ${repo%/}" >&2
  if [ "$mode" = local ]; then
    outcome=$(update_local "$repo" 3>&1 1>&2)
  else
    outcome=$(update_github "$repo" 3>&1 1>&2)
  fi
  status=$?
  [ "$status" = 0 ] || failed=$((failed + 1))
  report+=("${repo%/}: ${outcome:-FAILED (exit status $status)}")
done

echo "Rollout of $template $release: ${#repos[@]} repositories, $failed failed"
for line in ${report[@]+"${report[@]}"}; do echo "  $line"; done
[ "$failed" = 0 ]
