"""Kernel specifications: GLSL bodies, pass plans, float64 references and error budgets.

Each module specifies one kernel the way TF.js puts one together: shader bodies in
``glsl/kernels/``, host logic that plans and issues the passes, and beside them the
float64 numpy reference and the derived error budget the precision suite holds the
kernel to. :mod:`ddspgl.kernels.manifest` lists them for the tools.
"""
