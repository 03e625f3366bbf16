"""Kernel specifications: GLSL bodies, pass plans, float64 references and error budgets.

Each module specifies one kernel the way TF.js puts one together: shader bodies in
``glsl/kernels/``, host logic that plans and issues the passes, and beside them the
float64 numpy reference and the derived error budget the precision suite holds the
kernel to. :data:`REGISTRY` lists them.
"""

from . import cumsum, harmonic, harmonic_opchain, tfjs_cumsum

REGISTRY = {
    "cumsum": cumsum,
    "tfjs_cumsum": tfjs_cumsum,
    "harmonic": harmonic,
    "harmonic_opchain": harmonic_opchain,
}

__all__ = ["REGISTRY", "cumsum", "harmonic", "harmonic_opchain", "tfjs_cumsum"]
