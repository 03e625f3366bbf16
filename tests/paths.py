"""Paths the tests share (a module of its own: every test folder's conftest.py is
imported under the same name, so tests cannot import constants from one)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_GLSL = Path(__file__).resolve().parent / "glsl"
