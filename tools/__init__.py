"""ddspgl's tools: the precision suite, benchmarks and reports, the memory profile, the
browser host and the TF.js bundle emitter.

They sit on top of the runtime (:mod:`ddspgl.harness`) and the kernel specifications
(:mod:`ddspgl.kernels`); nothing in either imports them.
"""
