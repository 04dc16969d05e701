from . import mpm as mpm
