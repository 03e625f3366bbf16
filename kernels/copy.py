"""The copy pass: one read and one write per element, the floor a scan is measured against."""

from __future__ import annotations

from ..harness.context import Context, Texture

NAME = "copy"
BODY = "kernels/copy.frag"


def scan(ctx: Context, x: Texture, *, storage: str) -> Texture:
    """Copy an uploaded [rows, n] texture into a new texture of `storage`."""
    out = ctx.texture(x.rows, x.cols, 1, storage)
    try:
        ctx.run(BODY, {"x": x}, out)
    except BaseException:
        out.release()
        raise
    return out
