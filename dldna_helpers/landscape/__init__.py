"""Loss-landscape tools of section 5.3: interpolation, trajectories, Hessian, directions, grid
evaluation, multiscale and topological analysis, and the chapter's reference run."""
from .directions import random_direction
from .hessian import HessianOperator, hessian_top_eigen, hessian_trace, lanczos
from .interpolation import Interpolation, linear_interpolation
from .multiscale import Multiscale, Roughness, quadratic_fit, roughness, wavelet_multiscale
from .run import chapter_config, chapter_run
from .slice import LossSlice
from .spectrum import LanczosQuadrature, SpectralDensity, hessian_spectrum, lanczos_quadrature
from .surface import loss_surface
from .topology import Persistence, sublevel_persistence
from .trajectory import TrajectoryEmbedding, trajectory_embedding

__all__ = [
    "Interpolation", "linear_interpolation",
    "TrajectoryEmbedding", "trajectory_embedding",
    "HessianOperator", "hessian_top_eigen", "hessian_trace", "lanczos",
    "LanczosQuadrature", "SpectralDensity", "hessian_spectrum", "lanczos_quadrature",
    "random_direction", "loss_surface", "LossSlice",
    "Multiscale", "wavelet_multiscale", "Roughness", "roughness", "quadratic_fit",
    "Persistence", "sublevel_persistence",
    "chapter_config", "chapter_run",
]
