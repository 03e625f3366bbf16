"""ddspgl: WebGL2 kernels for neural audio synthesis, proven against float64.

>>> import numpy as np, ddspgl
>>> phase = ddspgl.cumsum(np.full(64000, 440 / 16000, np.float32), period=1.0)
"""

from .kernels.cumsum import cumsum
from .kernels.filtered_noise import filtered_noise
from .kernels.harmonic import harmonic_synth
from .kernels.yin import yin

__version__ = "0.1.0"
__all__ = ["cumsum", "filtered_noise", "harmonic_synth", "yin", "__version__"]
