"""copier's prompts in a pseudo-terminal: what the terminal receives as each prompt starts, and a
terminal that drives them and shows the screen a user sees."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

import pexpect
import pyte

from support.config import load_copier_config
from support.proc import tool

# copier's prompts (prompt_toolkit) in a pseudo-terminal: bracketed paste goes on as each prompt
# starts (the moment to press a key), and the terminal is asked where the cursor is (and waited for).
PROMPT_START = "\x1b[?2004h"
CURSOR_QUERY = "\x1b[6n"


T = TypeVar("T")


class Terminal:
    """copier's real prompt in an 80-column pseudo-terminal; pyte rebuilds the screen the user sees.

    prompt_toolkit redraws only the cells that change, so the byte stream never holds a message in
    one piece; it also asks where the cursor is, and waits for the answer.
    """

    def __init__(self, args: list[str], columns: int = 80, rows: int = 40, copier: str | None = None) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.Stream(self.screen)
        self.child = pexpect.spawn(
            copier or tool("copier"), args, dimensions=(rows, columns), encoding="utf-8", codec_errors="replace",
            env={**os.environ, "TERM": "xterm"},
        )  # fmt: skip
        self.child.delaybeforesend = None

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def read(self, timeout: float) -> str:
        """Feed what the program drew within `timeout` to the screen; answer its cursor query."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return ""
        if CURSOR_QUERY in data:
            self.child.send(f"\x1b[{self.screen.cursor.y + 1};{self.screen.cursor.x + 1}R")
        self.stream.feed(data)
        return data

    def pump(self, seconds: float) -> bool:
        """Feed output to the screen until a prompt waits (True), the program ends (False) or time runs out."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if PROMPT_START in self.read(0.1):
                    return True  # callers wait for what they expect on the screen (wait_until)
            except pexpect.EOF:
                return False
        raise AssertionError(f"no prompt within {seconds:.0f} s:\n{self.text()}")

    def wait_until(self, found: Callable[[str], T | None], seconds: float) -> T:
        """Feed output to the screen until `found(screen)` returns something, and return that.

        It waits for content, not for silence: no quiet period is both short and safe under load.
        """
        deadline = time.monotonic() + seconds
        while (result := found(self.text())) is None:
            assert time.monotonic() < deadline, f"not on the screen within {seconds:.0f} s:\n{self.text()}"
            try:
                self.read(0.05)
            except pexpect.EOF:
                raise AssertionError(f"the program ended first:\n{self.text()}") from None
        return result

    def wait_for(self, text: str, seconds: float) -> None:
        """Feed output to the screen until it shows `text`."""
        self.wait_until(lambda screen: True if text in screen else None, seconds)

    def interrupt(self) -> None:
        """Ctrl-C, as a user leaves a prompt, and wait for the program to end."""
        self.child.sendcontrol("c")
        self.child.expect(pexpect.EOF, timeout=30)

    def close(self) -> int | None:
        self.child.close(force=True)
        return self.child.exitstatus


def help_lines(question: str) -> list[str]:
    return load_copier_config()[question]["help"].splitlines()
