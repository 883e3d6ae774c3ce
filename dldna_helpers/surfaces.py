"""Two-dimensional test surfaces, the Gaussian fit of a loss grid, and optimizer paths.

Every test function takes two tensors ``x`` and ``y`` (any broadcastable shapes) and
returns a tensor, so torch autograd gives its exact gradient and the same function
draws a contour plot on a grid. :func:`optimizer_paths` runs any
``torch.optim.Optimizer`` (this book's or torch's) on such a function from a common
start and records each path.

The inverted Gaussian ``offset − A·exp(−(…))`` is a *bowl that flattens out*: near its
centre it curves upward like a quadratic, but beyond about one σ its curvature turns
negative and far away the surface is an almost flat plateau at ``offset``. It is
therefore **not convex**; it is a local model of a basin, useful only within a radius.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import torch

Surface = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
OptimizerFactory = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


# ---------------------------------------------------------------- test functions
@dataclass(frozen=True)
class GaussianParams:
    """Parameters of the inverted Gaussian z = offset − A·exp(−(u²/(2σx²) + v²/(2σy²))), where
    (u, v) is (x − x0, y − y0) rotated by −theta; theta = 0 gives the axis-aligned form."""

    offset: float
    amplitude: float
    x0: float
    y0: float
    sigma_x: float
    sigma_y: float
    theta: float = 0.0  # radians, angle from the x axis to the σx axis

    def __post_init__(self) -> None:
        if not (self.sigma_x > 0 and self.sigma_y > 0):
            raise ValueError(f"sigma_x and sigma_y must be positive, got {self.sigma_x!r}, {self.sigma_y!r}")

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return inverted_gaussian(x, y, **asdict(self))

    @property
    def minimum(self) -> float:
        """The lowest value of the surface, reached at (x0, y0) when the amplitude is positive."""
        return self.offset - max(self.amplitude, 0.0)

    @property
    def curvatures(self) -> tuple[float, float]:
        """Curvatures at the centre along the ellipse's two axes, A/σx² and A/σy²: with the
        minimum c − A and the centre, what a grid near the bottom determines (the local quadratic)."""
        return self.amplitude / self.sigma_x**2, self.amplitude / self.sigma_y**2

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def inverted_gaussian(
    x: torch.Tensor, y: torch.Tensor, offset: float = 1.0, amplitude: float = 1.0,
    x0: float = 0.0, y0: float = 0.0, sigma_x: float = 1.0, sigma_y: float = 1.0, theta: float = 0.0,
) -> torch.Tensor:
    """A Gaussian well: ``offset`` far away, ``offset − amplitude`` at (x0, y0). Not convex."""
    return offset - amplitude * _bump(x, y, x0, y0, sigma_x, sigma_y, theta)


def _bump(x: torch.Tensor, y: torch.Tensor, x0: float, y0: float, sigma_x: float, sigma_y: float,
          theta: float = 0.0) -> torch.Tensor:
    """exp(−(u²/(2σx²) + v²/(2σy²))) with (u, v) the offset from (x0, y0) in the rotated axes; in (0, 1]."""
    if not (sigma_x > 0 and sigma_y > 0):
        raise ValueError(f"sigma_x and sigma_y must be positive, got {sigma_x!r}, {sigma_y!r}")
    c, s = math.cos(theta), math.sin(theta)
    dx, dy = x - x0, y - y0
    u, v = c * dx + s * dy, -s * dx + c * dy
    return torch.exp(-(u**2 / (2 * sigma_x**2) + v**2 / (2 * sigma_y**2)))


def gaussian_mixture(
    x: torch.Tensor, y: torch.Tensor, wells: Sequence[GaussianParams], offset: float = 1.0
) -> torch.Tensor:
    """Several Gaussian wells on one plateau: ``offset − Σ Aᵢ·exp(−(…)ᵢ)`` (the wells' own offsets are ignored)."""
    if len(wells) == 0:
        raise ValueError("wells must hold at least one GaussianParams")
    z = torch.full(torch.broadcast_shapes(x.shape, y.shape), float(offset), dtype=x.dtype, device=x.device)
    for w in wells:
        z = z - w.amplitude * _bump(x, y, w.x0, w.y0, w.sigma_x, w.sigma_y, w.theta)
    return z


def ill_conditioned_quadratic(x: torch.Tensor, y: torch.Tensor, ratio: float = 8.0) -> torch.Tensor:
    """w1² + ratio·w2²: curvatures 2 and 2·ratio, condition number ``ratio``, minimum 0 at the origin."""
    if not ratio > 0:
        raise ValueError(f"ratio must be positive, got {ratio!r}")
    return x**2 + ratio * y**2


def himmelblau(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(x² + y − 11)² + (x + y² − 7)²: four minima of value 0, e.g. at (3, 2)."""
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def saddle(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x² − y²: a saddle point at the origin (gradient zero, neither a minimum nor a maximum)."""
    return x**2 - y**2


def rotated(fn: Surface, angle: float) -> Surface:
    """``fn`` turned counter-clockwise by ``angle`` radians about the origin: ``g(R·p) = fn(p)``.

    A valley of ``fn`` along the x axis lies along the direction ``angle`` in ``g``; start from
    :func:`rotate_point` of the same point to get the same problem in turned coordinates.
    """
    c, s = math.cos(angle), math.sin(angle)

    def turned(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return fn(c * x + s * y, -s * x + c * y)

    return turned


def rotate_point(point: Sequence[float], angle: float) -> tuple[float, float]:
    """``R·point``: the point turned counter-clockwise by ``angle`` radians about the origin."""
    if len(point) != 2:
        raise ValueError(f"point must be (x, y), got {point!r}")
    x, y = (float(v) for v in point)
    c, s = math.cos(angle), math.sin(angle)
    return c * x - s * y, s * x + c * y


HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127))


def gradient(fn: Surface, x: float, y: float) -> tuple[float, float]:
    """The exact gradient (∂f/∂x, ∂f/∂y) of a test function at one point, by autograd in float64."""
    p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(fn(p[0], p[1]), p)
    return float(g[0]), float(g[1])


def value(fn: Surface, x: float, y: float) -> float:
    """The value of a test function (or a network's :class:`~dldna_helpers.landscape.LossSlice`)
    at one point, in float64, without building a graph."""
    with torch.no_grad():
        return float(fn(torch.tensor(float(x), dtype=torch.float64), torch.tensor(float(y), dtype=torch.float64)))


def minimize_surface(fn: Surface, start: Sequence[float]) -> tuple[tuple[float, float], float]:
    """The local minimum of ``fn`` reached from ``start`` by BFGS with autograd gradients (float64):
    ``((x, y), value)``. For a target that does not depend on the optimizers being compared."""
    from scipy.optimize import minimize

    if len(start) != 2 or not all(math.isfinite(float(v)) for v in start):
        raise ValueError(f"start must be two finite numbers (x, y), got {start!r}")

    def value_and_grad(point: np.ndarray) -> tuple[float, np.ndarray]:
        p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        value = fn(p[0], p[1])
        (g,) = torch.autograd.grad(value, p)
        return float(value.detach()), g.numpy()

    result = minimize(value_and_grad, np.asarray(start, dtype=np.float64), jac=True, method="BFGS")
    if not np.isfinite(result.fun):
        raise ValueError(f"minimize_surface: the function is not finite near {start!r}")
    return (float(result.x[0]), float(result.x[1])), float(result.fun)


def evaluate_grid(fn: Surface, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``Z[i, j] = fn(xs[j], ys[i])`` — rows follow y, as ``contour(xs, ys, Z)`` expects."""
    X, Y = np.meshgrid(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
    with torch.no_grad():
        return fn(torch.from_numpy(X), torch.from_numpy(Y)).numpy()


# ---------------------------------------------------------------- Gaussian and quadratic fits
@dataclass(frozen=True)
class GaussianFit:
    """Result of :func:`fit_gaussian`: the parameters, R² on the fitted points, and the region used.

    ``at_bound`` names the fitted parameters that stopped on a bound of the fit (then the data
    did not determine them: the optimum lies beyond the bound); ``sigma`` is the geometric mean
    √(σx·σy) when it was held fixed (a point of a profile), else None.
    """

    params: GaussianParams
    r2: float
    n_points: int
    radius: float | None
    center: tuple[float, float]
    at_bound: tuple[str, ...] = ()
    sigma: float | None = None


@dataclass(frozen=True)
class QuadraticFit:
    """Result of :func:`fit_quadratic`: z = m + ½·(p − p₀)ᵀ H (p − p₀), six coefficients.

    ``minimum`` is m (the value at the vertex p₀ = (x0, y0) when H is positive definite),
    ``hessian`` the symmetric 2×2 matrix H; R² is measured on the fitted points.
    """

    minimum: float
    x0: float
    y0: float
    hessian: tuple[tuple[float, float], tuple[float, float]]
    r2: float
    n_points: int
    radius: float | None
    center: tuple[float, float]

    @property
    def axes(self) -> tuple[float, float, float]:
        """(curvature along the axis nearer x, curvature along the other, theta in (−π/4, π/4]):
        the same convention as :class:`GaussianParams`' (σx, σy, theta)."""
        values, vectors = np.linalg.eigh(np.array(self.hessian))
        theta = math.atan2(vectors[1, 0], vectors[0, 0])
        k_x, k_y, theta = _canonical_axes(float(values[0]), float(values[1]), theta)
        return k_x, k_y, theta

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        (hxx, hxy), (_, hyy) = self.hessian
        dx, dy = x - self.x0, y - self.y0
        return self.minimum + 0.5 * (hxx * dx**2 + 2 * hxy * dx * dy + hyy * dy**2)


def _check_grid(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, Z = (np.asarray(a, dtype=np.float64) for a in (xs, ys, Z))
    if xs.ndim != 1 or ys.ndim != 1 or xs.size == 0 or ys.size == 0:
        raise ValueError(f"xs and ys must be non-empty 1-D arrays, got shapes {xs.shape} and {ys.shape}")
    if Z.shape != (ys.size, xs.size):
        raise ValueError(f"Z must have shape (len(ys), len(xs)) = {(ys.size, xs.size)}, got {Z.shape}")
    if not np.isfinite(Z).all():
        bad = int((~np.isfinite(Z)).sum())
        raise ValueError(f"Z holds {bad} non-finite value(s) (nan or inf); evaluate the grid again or crop it")
    return xs, ys, Z


def _region(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, radius: float | None,
            center: tuple[float, float] | None, needed: int):
    """The grid points within ``radius`` of ``center`` (default: the lowest grid point)."""
    xs, ys, Z = _check_grid(xs, ys, Z)
    X, Y = np.meshgrid(xs, ys)
    if center is None:
        i = int(Z.argmin())
        center = (float(X.flat[i]), float(Y.flat[i]))
    if radius is not None:
        if not radius > 0:
            raise ValueError(f"radius must be positive or None, got {radius!r}")
        # the tolerance keeps lattice points that lie on the circle (hypot rounds either way)
        mask = np.hypot(X - center[0], Y - center[1]) <= radius * (1 + 1e-9)
    else:
        mask = np.ones_like(Z, dtype=bool)
    x, y, z = X[mask], Y[mask], Z[mask]
    if z.size < needed:
        raise ValueError(f"only {z.size} grid point(s) lie within radius={radius!r} of {center}; "
                         f"the fit needs at least {needed}: use a larger radius or a finer grid")
    return xs, ys, x, y, z, (float(center[0]), float(center[1]))


def _r2(z: np.ndarray, sse: float) -> float:
    ss_tot = float(((z - z.mean()) ** 2).sum())
    return 1.0 - sse / ss_tot if ss_tot > 0 else float("nan")


def _initial_guess(x: np.ndarray, y: np.ndarray, z: np.ndarray, span: float) -> list[float]:
    """Plateau from the highest values, centre at the lowest point, σ from the half-depth region."""
    offset, low = float(z.max()), float(z.min())
    i = int(z.argmin())
    x0, y0 = float(x[i]), float(y[i])
    inside = z < low + 0.5 * (offset - low)
    sigmas = []
    for coord in (x, y):
        # points spread uniformly inside the half-depth ellipse of semi-axis a have std a/2,
        # and that ellipse lies at a = σ·sqrt(2 ln 2)
        s = 2 * float(coord[inside].std()) / math.sqrt(2 * math.log(2)) if inside.sum() >= 3 else 0.0
        sigmas.append(s if s > 0 else span / 4)
    return [offset, max(offset - low, 1e-12), x0, y0, sigmas[0], sigmas[1]]


def _canonical_axes(sigma_x: float, sigma_y: float, theta: float) -> list[float]:
    """The same ellipse with theta in (−π/4, π/4]: rotating by π/2 and swapping the σs changes nothing,
    so σx is reported as the axis nearer to the x axis."""
    while theta > math.pi / 4:
        theta, sigma_x, sigma_y = theta - math.pi / 2, sigma_y, sigma_x
    while theta <= -math.pi / 4:
        theta, sigma_x, sigma_y = theta + math.pi / 2, sigma_y, sigma_x
    return [sigma_x, sigma_y, theta]


def _on_bound(values: Sequence[float], lower: Sequence[float], upper: Sequence[float],
              names: Sequence[str]) -> tuple[str, ...]:
    """Names of the values that sit on (within 10⁻⁶ relative of) a finite bound."""
    def near(v: float, b: float) -> bool:
        return math.isfinite(b) and abs(v - b) <= 1e-6 * max(1.0, abs(b))
    return tuple(n for n, v, lo, hi in zip(names, values, lower, upper) if near(v, lo) or near(v, hi))


_FREE_NAMES = ("offset", "amplitude", "x0", "y0", "sigma_x", "sigma_y", "theta")
_FIXED_NAMES = ("offset", "amplitude", "x0", "y0", "aspect", "theta")


def fit_gaussian(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, radius: float | None = None,
    center: tuple[float, float] | None = None, rotate: bool = False, sigma: float | None = None,
) -> GaussianFit:
    """Least-squares fit of the inverted Gaussian to a grid ``Z[y, x]`` (scipy ``curve_fit``).

    With ``radius``, only grid points within that distance of ``center`` (default: the
    grid's lowest point) are fitted: the Gaussian is a local model of a basin. ``rotate``
    also fits the angle ``theta`` of the ellipse (a tilted basin cannot be matched by the
    axis-aligned form). The returned R² = 1 − SS_res/SS_tot is measured on the fitted points.

    ``sigma`` holds the width's geometric mean √(σx·σy) fixed and fits everything else (the
    aspect σx/σy included, the amplitude without an upper bound): one point of the profile of
    the fit over σ. Parameters that end on a bound of the fit are listed in ``at_bound``.
    """
    from scipy.optimize import curve_fit

    if sigma is not None and not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive number or None, got {sigma!r}")
    xs, ys, x, y, z, center = _region(xs, ys, Z, radius, center, needed=7 if sigma is None else 6)
    span = float(max(xs.max() - xs.min(), ys.max() - ys.min(), 1e-12))
    depth = float(z.max() - z.min())
    xy_t = torch.from_numpy(np.vstack([x, y]))
    guess = _initial_guess(x, y, z, span)
    lower = [-np.inf, 0.0, xs.min() - span, ys.min() - span]
    upper = [np.inf, 100 * depth + 1e-9, xs.max() + span, ys.max() + span]
    if sigma is None:
        lower, upper = lower + [span * 1e-3] * 2, upper + [10 * span] * 2

        def model(_: np.ndarray, *p: float) -> np.ndarray:
            # the fitted function is the one the paths run on: inverted_gaussian itself
            return inverted_gaussian(xy_t[0], xy_t[1], *p).numpy()

        starts = [guess] if not rotate else [guess + [t] for t in (-math.pi / 4, 0.0, math.pi / 4)]
    else:
        # σx = σ·e^a, σy = σ·e^(−a); start from the local quadratic: A = σ²·√(λ1·λ2), a = ¼·ln(λ2/λ1)
        upper[1] = np.inf
        lower, upper = lower + [-5.0], upper + [5.0]

        def model(_: np.ndarray, *p: float) -> np.ndarray:
            c, a, x0, y0, aspect, *theta = p
            return inverted_gaussian(xy_t[0], xy_t[1], c, a, x0, y0, sigma * math.exp(aspect),
                                     sigma * math.exp(-aspect), *theta).numpy()

        quad = fit_quadratic(xs, ys, Z, radius=radius, center=center)
        k_x, k_y, theta0 = quad.axes
        if k_x > 0 and k_y > 0:
            amp = sigma**2 * math.sqrt(k_x * k_y)
            first = [quad.minimum + amp, amp, quad.x0, quad.y0, 0.25 * math.log(k_y / k_x)]
        else:
            first = guess[:4] + [0.5 * math.log(guess[4] / guess[5])]
        starts = [first] if not rotate else [first + [theta0]] + [first + [t] for t in (-math.pi / 4, math.pi / 4)]
    if rotate:
        lower, upper = lower + [-math.pi / 2], upper + [math.pi / 2]
    best = None
    for p0 in starts:  # a tilted basin has local optima in theta: keep the best of a few starts
        p0 = list(np.clip(p0, np.array(lower) + 1e-12, np.array(upper) - 1e-12))
        popt, _ = curve_fit(model, np.arange(z.size), z, p0=p0, bounds=(lower, upper), maxfev=20000)
        sse = float(((z - model(None, *popt)) ** 2).sum())
        if best is None or sse < best[0]:
            best = (sse, popt)
    sse, popt = best
    values = [float(v) for v in popt]
    at_bound = _on_bound(values, lower, upper, _FREE_NAMES if sigma is None else _FIXED_NAMES)
    if sigma is not None:
        aspect = values.pop(4)
        values[4:4] = [sigma * math.exp(aspect), sigma * math.exp(-aspect)]
    if rotate:
        values[4:] = _canonical_axes(*values[4:])
    params = GaussianParams(*values)
    return GaussianFit(params, _r2(z, sse), int(z.size), radius, center, at_bound, sigma)


def fit_quadratic(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, radius: float | None = None,
    center: tuple[float, float] | None = None,
) -> QuadraticFit:
    """Least-squares fit of the general quadratic a + bx + cy + dx² + exy + fy² (six coefficients,
    linear least squares) to the grid points within ``radius`` of ``center`` (as :func:`fit_gaussian`),
    reported as vertex, value there and Hessian. It is the Gaussian's limit σ → ∞ with A/σ² fixed."""
    xs, ys, x, y, z, center = _region(xs, ys, Z, radius, center, needed=6)
    design = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)
    coef, *_ = np.linalg.lstsq(design, z, rcond=None)
    a, bx, by, cxx, cxy, cyy = (float(v) for v in coef)
    hessian = np.array([[2 * cxx, cxy], [cxy, 2 * cyy]])
    if abs(np.linalg.det(hessian)) < 1e-12 * max(1.0, float(np.abs(hessian).max()) ** 2):
        raise ValueError("the fitted quadratic is degenerate (its Hessian is singular): no vertex to report")
    x0, y0 = np.linalg.solve(hessian, -np.array([bx, by]))
    minimum = a + 0.5 * (bx * x0 + by * y0)
    sse = float(((z - design @ coef) ** 2).sum())
    return QuadraticFit(float(minimum), float(x0), float(y0),
                        ((float(hessian[0, 0]), float(hessian[0, 1])), (float(hessian[1, 0]), float(hessian[1, 1]))),
                        _r2(z, sse), int(z.size), radius, center)


def extra_parameter_p_value(r2_simple: float, r2_full: float, n_points: int, n_params_full: int,
                            extra: int = 1) -> float:
    """p-value of the F test for nested least-squares models fitted to the same ``n_points``: does
    the full model (``n_params_full`` parameters, ``extra`` more than the simple one) reduce the
    residual sum of squares by more than chance would? With the same points, SSE ∝ 1 − R², so
    F = ((R²_full − R²_simple)/extra) / ((1 − R²_full)/(n − n_params_full)). A full model that fits
    no better gives 1. (The test assumes independent noise; for a model's misfit on a smooth grid
    it is a rough yardstick.)"""
    from scipy.stats import f as f_dist

    if not (isinstance(n_points, int) and isinstance(n_params_full, int) and isinstance(extra, int)
            and 1 <= extra < n_params_full < n_points):
        raise ValueError(f"need 1 <= extra < n_params_full < n_points (ints), got extra={extra!r}, "
                         f"n_params_full={n_params_full!r}, n_points={n_points!r}")
    if not (math.isfinite(r2_simple) and math.isfinite(r2_full) and r2_full <= 1):
        raise ValueError(f"R² values must be finite and at most 1, got {r2_simple!r} and {r2_full!r}")
    if r2_full <= r2_simple:
        return 1.0
    if r2_full == 1:
        return 0.0
    df = n_points - n_params_full
    stat = ((r2_full - r2_simple) / extra) / ((1 - r2_full) / df)
    return float(f_dist.sf(stat, extra, df))


def r2_by_radius(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, radii: Iterable[float],
    center: tuple[float, float] | None = None, rotate: bool = False,
) -> list[GaussianFit]:
    """One :func:`fit_gaussian` per radius, to show where the Gaussian stops describing the surface."""
    radii = list(radii)
    if not radii:
        raise ValueError("radii is empty: give at least one positive radius")
    return [fit_gaussian(xs, ys, Z, radius=r, center=center, rotate=rotate) for r in radii]


# ---------------------------------------------------------------- optimizer paths
@dataclass
class Path:
    """Positions and function values of one optimizer run; index 0 is the start."""

    label: str
    xy: np.ndarray        # (n + 1, 2)
    loss: np.ndarray      # (n + 1,)
    diverged_step: int | None = None

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])


def optimizer_paths(
    fn: Surface,
    start: tuple[float, float],
    optimizers: Mapping[str, OptimizerFactory],
    steps: int,
    *,
    escape: float = 1e6,
) -> dict[str, Path]:
    """Run each optimizer ``steps`` times on ``fn`` from ``start``; return the paths by label.

    ``optimizers`` maps a label to a factory ``lambda params: Optimizer``; the labels of a
    plot come from this mapping, i.e. from the optimizers actually run. A path stops early
    when the function value is non-finite or the point leaves the box |x|, |y| ≤ ``escape``.
    Computation is in float64 so paths can be compared with closed-form iterates.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int ≥ 1, got {steps!r}")
    if len(start) != 2 or not all(math.isfinite(float(s)) for s in start):
        raise ValueError(f"start must be two finite numbers (x, y), got {start!r}")
    if not optimizers:
        raise ValueError("optimizers is empty: map at least one label to a factory `lambda params: Optimizer`")
    paths = {}
    for label, factory in optimizers.items():
        p = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64, requires_grad=True)
        opt = factory([p])
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"factory for {label!r} returned {type(opt).__name__}, not a torch.optim.Optimizer")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            value = fn(p[0], p[1])
            value.backward()
            return value

        with torch.no_grad():
            first = float(fn(p[0], p[1]))
        xy, loss, diverged = [p.detach().clone().numpy()], [first], None
        for step in range(1, steps + 1):
            opt.step(closure)
            with torch.no_grad():
                value = float(fn(p[0], p[1]))
            point = p.detach().clone().numpy()
            if not math.isfinite(value) or np.abs(point).max() > escape:
                diverged = step
                break
            xy.append(point)
            loss.append(value)
        paths[label] = Path(str(label), np.array(xy), np.array(loss), diverged)
    return paths


def paths_to_state(paths: Mapping[str, Path]) -> dict:
    """Paths as plain tensors and numbers, for ``torch.save`` (and ``torch.load(weights_only=True)``)."""
    return {str(key): {"label": p.label, "xy": torch.from_numpy(np.asarray(p.xy, dtype=np.float64)),
                       "loss": torch.from_numpy(np.asarray(p.loss, dtype=np.float64)),
                       "diverged_step": -1 if p.diverged_step is None else int(p.diverged_step)}
            for key, p in paths.items()}


def paths_from_state(state: Mapping[str, Mapping]) -> dict[str, Path]:
    """The inverse of :func:`paths_to_state` (keys come back as strings)."""
    try:
        return {key: Path(str(v["label"]), v["xy"].numpy(), v["loss"].numpy(),
                          None if int(v["diverged_step"]) < 0 else int(v["diverged_step"]))
                for key, v in state.items()}
    except (KeyError, AttributeError, TypeError) as exc:
        raise ValueError(f"not a saved set of paths (expected label, xy, loss, diverged_step per entry): {exc}") from exc


def steps_to_tolerance(path: Path, target: float, tol: float, settle: int = 0) -> int | None:
    """First step from which the loss stays within ``tol`` of ``target`` until the end; None if never.

    "Stays" matters: an oscillating path can touch the tolerance band and leave it again. With
    ``settle`` > 0 the stay must also last at least ``settle`` steps before the path ends (run the
    path longer than the steps you count), so a path that enters the band just before the last
    step, or cycles in and out of it, does not count as having reached.
    """
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol!r}")
    if not (isinstance(settle, (int, np.integer)) and settle >= 0):
        raise ValueError(f"settle must be an int >= 0, got {settle!r}")
    if path.diverged_step is not None:
        return None
    inside = np.asarray(path.loss) - target <= tol
    if not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    first = int(outside[-1] + 1) if outside.size else 0
    return first if len(inside) - 1 - first >= settle else None


def plot_paths(
    ax, fn: Surface, paths: Mapping[str, Path], xlim: tuple[float, float], ylim: tuple[float, float],
    *, levels: int | Sequence[float] = 25, points: int = 200, marker_every: int | None = None,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, distinct: bool = False,
):
    """Contour of ``fn`` with each path drawn on top; the legend labels are the paths' labels.

    ``grid=(xs, ys, Z)`` draws the contour from values already measured (``Z[y, x]``) instead of
    evaluating ``fn`` on ``points``² points — for a surface as costly as a network's loss slice.
    ``distinct=True`` gives every path its own line style and marker shape, and earlier paths
    wider lines underneath later ones, so paths that run on top of each other stay visible. The
    start star is never clipped by the axes.
    """
    if grid is None:
        xs, ys = np.linspace(*xlim, points), np.linspace(*ylim, points)
        Z = evaluate_grid(fn, xs, ys)
    else:
        xs, ys, Z = _check_grid(*grid)
    # explicit levels may stop below the data: extend="max" draws values above the top level in its
    # colour instead of leaving them white (automatic levels already cover the data)
    extend = "neither" if isinstance(levels, (int, np.integer)) else "max"
    cs = ax.contourf(xs, ys, Z, levels=levels, cmap="viridis", alpha=0.85, extend=extend)
    ax.contour(xs, ys, Z, levels=cs.levels, colors="white", linewidths=0.3, alpha=0.5)
    styles, shapes = ("-", "--", "-.", ":"), ("o", "s", "^", "D", "v", "P")
    n = len(paths)
    for i, path in enumerate(paths.values()):
        ls, shape = (styles[i % 4], shapes[i % 6]) if distinct else ("-", "o")
        line, = ax.plot(path.xy[:, 0], path.xy[:, 1], ls, lw=1.9 + 0.8 * (n - 1 - i) if distinct else 1.6,
                        label=path.label, zorder=3 + 0.1 * i)
        if marker_every:
            ax.plot(path.xy[::marker_every, 0], path.xy[::marker_every, 1], shape, ms=3 if distinct else 2.5,
                    color=line.get_color(), zorder=3 + 0.1 * i)
        ax.plot(*path.xy[-1], "x", ms=7, mew=2, color=line.get_color(), zorder=4)
    first = next(iter(paths.values()), None)
    if first is not None:
        ax.plot(*first.xy[0], "*", ms=13, color="white", mec="black", label="시작점", clip_on=False, zorder=5)
    ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y")
    return cs
