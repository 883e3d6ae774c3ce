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


HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127))


def gradient(fn: Surface, x: float, y: float) -> tuple[float, float]:
    """The exact gradient (∂f/∂x, ∂f/∂y) of a test function at one point, by autograd in float64."""
    p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(fn(p[0], p[1]), p)
    return float(g[0]), float(g[1])


def evaluate_grid(fn: Surface, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``Z[i, j] = fn(xs[j], ys[i])`` — rows follow y, as ``contour(xs, ys, Z)`` expects."""
    X, Y = np.meshgrid(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
    with torch.no_grad():
        return fn(torch.from_numpy(X), torch.from_numpy(Y)).numpy()


# ---------------------------------------------------------------- Gaussian fit
@dataclass(frozen=True)
class GaussianFit:
    """Result of :func:`fit_gaussian`: the parameters, R² on the fitted points, and the region used."""

    params: GaussianParams
    r2: float
    n_points: int
    radius: float | None
    center: tuple[float, float]


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


def fit_gaussian(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, radius: float | None = None,
    center: tuple[float, float] | None = None, rotate: bool = False,
) -> GaussianFit:
    """Least-squares fit of the inverted Gaussian to a grid ``Z[y, x]`` (scipy ``curve_fit``).

    With ``radius``, only grid points within that distance of ``center`` (default: the
    grid's lowest point) are fitted: the Gaussian is a local model of a basin. ``rotate``
    also fits the angle ``theta`` of the ellipse (a tilted basin cannot be matched by the
    axis-aligned form). The returned R² = 1 − SS_res/SS_tot is measured on the fitted points.
    """
    from scipy.optimize import curve_fit

    xs, ys, Z = _check_grid(xs, ys, Z)
    X, Y = np.meshgrid(xs, ys)
    if center is None:
        i = int(Z.argmin())
        center = (float(X.flat[i]), float(Y.flat[i]))
    if radius is not None:
        if not radius > 0:
            raise ValueError(f"radius must be positive or None, got {radius!r}")
        mask = np.hypot(X - center[0], Y - center[1]) <= radius
    else:
        mask = np.ones_like(Z, dtype=bool)
    x, y, z = X[mask], Y[mask], Z[mask]
    if z.size < 7:
        raise ValueError(f"only {z.size} grid point(s) lie within radius={radius!r} of {center}; "
                         "the fit needs at least 7 (6 parameters): use a larger radius or a finer grid")
    span = float(max(xs.max() - xs.min(), ys.max() - ys.min(), 1e-12))
    depth = float(z.max() - z.min())
    guess = _initial_guess(x, y, z, span)
    lower = [-np.inf, 0.0, xs.min() - span, ys.min() - span, span * 1e-3, span * 1e-3]
    upper = [np.inf, 100 * depth + 1e-9, xs.max() + span, ys.max() + span, 10 * span, 10 * span]
    guess = list(np.clip(guess, np.array(lower) + 1e-12, np.array(upper) - 1e-12))
    xy_t = torch.from_numpy(np.vstack([x, y]))

    def model(xy: np.ndarray, *p: float) -> np.ndarray:
        # the fitted function is the one the paths run on: inverted_gaussian itself
        return inverted_gaussian(xy_t[0], xy_t[1], *p).numpy()

    starts = [guess] if not rotate else [guess + [t] for t in (-math.pi / 4, 0.0, math.pi / 4)]
    if rotate:
        lower, upper = lower + [-math.pi / 2], upper + [math.pi / 2]
    best = None
    for p0 in starts:  # a tilted basin has local optima in theta: keep the best of a few starts
        popt, _ = curve_fit(model, np.arange(z.size), z, p0=p0, bounds=(lower, upper), maxfev=20000)
        sse = float(((z - model(None, *popt)) ** 2).sum())
        if best is None or sse < best[0]:
            best = (sse, popt)
    sse, popt = best
    ss_tot = float(((z - z.mean()) ** 2).sum())
    r2 = 1.0 - sse / ss_tot if ss_tot > 0 else float("nan")
    values = [float(v) for v in popt]
    if rotate:
        values[4:] = _canonical_axes(*values[4:])
    params = GaussianParams(*values)
    return GaussianFit(params, r2, int(z.size), radius, (float(center[0]), float(center[1])))


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


def steps_to_tolerance(path: Path, target: float, tol: float) -> int | None:
    """First step from which the loss stays within ``tol`` of ``target`` until the end; None if never.

    "Stays" matters: an oscillating path can touch the tolerance band and leave it again.
    """
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol!r}")
    if path.diverged_step is not None:
        return None
    inside = np.asarray(path.loss) - target <= tol
    if not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    return int(outside[-1] + 1) if outside.size else 0


def plot_paths(
    ax, fn: Surface, paths: Mapping[str, Path], xlim: tuple[float, float], ylim: tuple[float, float],
    *, levels: int = 25, points: int = 200, marker_every: int | None = None,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
):
    """Contour of ``fn`` with each path drawn on top; the legend labels are the paths' labels.

    ``grid=(xs, ys, Z)`` draws the contour from values already measured (``Z[y, x]``) instead of
    evaluating ``fn`` on ``points``² points — for a surface as costly as a network's loss slice.
    """
    if grid is None:
        xs, ys = np.linspace(*xlim, points), np.linspace(*ylim, points)
        Z = evaluate_grid(fn, xs, ys)
    else:
        xs, ys, Z = _check_grid(*grid)
    cs = ax.contourf(xs, ys, Z, levels=levels, cmap="viridis", alpha=0.85)
    ax.contour(xs, ys, Z, levels=levels, colors="white", linewidths=0.3, alpha=0.5)
    for path in paths.values():
        line, = ax.plot(path.xy[:, 0], path.xy[:, 1], "-", lw=1.6, label=path.label)
        if marker_every:
            ax.plot(path.xy[::marker_every, 0], path.xy[::marker_every, 1], "o", ms=2.5, color=line.get_color())
        ax.plot(*path.xy[-1], "x", ms=7, mew=2, color=line.get_color())
    first = next(iter(paths.values()), None)
    if first is not None:
        ax.plot(*first.xy[0], "*", ms=13, color="white", mec="black", label="시작점")
    ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y")
    return cs
