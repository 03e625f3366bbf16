"""The headless GL harness: contexts, textures with counters, passes, metrics."""

from .context import (
    BACKENDS,
    STORAGES,
    Context,
    ContextError,
    Counters,
    Texture,
    default_context,
)

__all__ = [
    "BACKENDS",
    "STORAGES",
    "Context",
    "ContextError",
    "Counters",
    "Texture",
    "default_context",
]
