"""copier's prompts in a pseudo-terminal: what the terminal receives as each prompt starts."""

from __future__ import annotations

# copier's prompts (prompt_toolkit) in a pseudo-terminal: bracketed paste goes on as each prompt
# starts (the moment to press a key), and the terminal is asked where the cursor is (and waited for).
PROMPT_START = "\x1b[?2004h"
CURSOR_QUERY = "\x1b[6n"
