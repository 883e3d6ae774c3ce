"""map_runs: the results, output and random state of a serial loop, from forked workers."""
from __future__ import annotations

import os
import sys

import nbformat
import pytest
import torch

from dldna_helpers import parallel
from dldna_helpers.data import TensorData, TensorLoader
from dldna_helpers.models import MLP
from dldna_helpers.parallel import cgroup_cpu_limit, map_runs, worker_count
from dldna_helpers.training import train

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="map_runs forks only on Linux")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """The quick profile's condition for forking: one torch thread per page."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.delenv(parallel.JOBS_ENV, raising=False)
    yield
    torch.set_num_threads(threads)


def _data(seed: int) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    return TensorData(torch.randn(96, 1, 6, 6, generator=g), torch.randint(0, 3, (96,), generator=g),
                      ("a", "b", "c"), "test", False)


def _train_run(seed: int, lr: float) -> tuple:
    torch.manual_seed(seed)
    model = MLP(36, (16, 8), 3)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = TensorLoader(_data(seed), 16, shuffle=True, seed=seed)
    history = train(model, opt, loader, (loader.data.x, loader.data.y), 2, progress=False)
    print(f"seed {seed} lr {lr}")
    return history.step_loss, history.test_acc, {k: v.clone() for k, v in model.state_dict().items()}


TASKS = [(seed, lr) for seed in (0, 1, 2) for lr in (0.05, 0.2)]


def test_parallel_results_equal_the_serial_loop_bit_for_bit(monkeypatch, capsys):
    assert worker_count(len(TASKS)) >= min(2, parallel.usable_cpus())
    parallel_results = map_runs(_train_run, TASKS, jobs=2)
    parallel_out = capsys.readouterr().out
    serial = [_train_run(*task) for task in TASKS]
    serial_out = capsys.readouterr().out
    for (loss_p, acc_p, state_p), (loss_s, acc_s, state_s) in zip(parallel_results, serial):
        assert loss_p == loss_s and acc_p == acc_s
        assert all(torch.equal(state_p[k], state_s[k]) for k in state_s)
    assert parallel_out == serial_out   # printed in task order, whichever worker finished first
    monkeypatch.setenv(parallel.JOBS_ENV, "1")
    assert worker_count(len(TASKS)) == 1
    assert [r[0] for r in map_runs(_train_run, TASKS)] == [r[0] for r in serial]


def _draw(_: int) -> float:
    return float(torch.rand(())) + float(__import__("numpy").random.rand())


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_task_starts_from_the_callers_random_state_and_leaves_it_alone(jobs):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    draws = map_runs(_draw, range(4), jobs=jobs)
    assert torch.equal(torch.get_rng_state(), before)
    assert len(set(draws)) == 1 and draws[0] == _draw(0)


def _fails_on(k: int) -> int:
    if k == 2:
        raise ValueError(f"bad task {k}")
    return k


def test_the_first_failing_task_raises_its_own_error_with_its_traceback():
    with pytest.raises(ValueError, match="bad task 2") as info:
        map_runs(_fails_on, range(5), jobs=2)
    assert any("_fails_on" in note for note in getattr(info.value, "__notes__", []))


def test_a_serial_failure_keeps_its_own_traceback_without_a_worker_note():
    with pytest.raises(ValueError, match="bad task 2") as info:
        map_runs(_fails_on, range(5), jobs=1)
    assert not getattr(info.value, "__notes__", None)
    assert "_fails_on" in "".join(__import__("traceback").format_tb(info.value.__traceback__))


def _unpicklable(_: int):
    return lambda: None


def test_a_result_that_cannot_travel_back_is_a_clear_error():
    with pytest.raises(RuntimeError, match="cannot be sent back.*DLDNA_JOBS=1"):
        map_runs(_unpicklable, range(2), jobs=2)


def _dies(k: int) -> int:
    if k == 1:
        os._exit(3)
    return k


def test_a_dead_worker_is_reported_with_the_way_out():
    with pytest.raises(RuntimeError, match="worker process of map_runs died.*DLDNA_JOBS=1"):
        map_runs(_dies, range(3), jobs=2)


def _nested(k: int) -> tuple[bool, int]:
    return parallel.in_worker(), worker_count(8)


def test_workers_run_nested_calls_serially():
    assert map_runs(_nested, range(2), jobs=2) == [(True, 1), (True, 1)]


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_a_bad_jobs_variable_names_the_value(monkeypatch, bad):
    monkeypatch.setenv(parallel.JOBS_ENV, bad)
    with pytest.raises(ValueError, match=f"DLDNA_JOBS must be a positive integer.*{bad!r}"):
        map_runs(_draw, range(2))


def test_bad_jobs_argument():
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        map_runs(_draw, range(2), jobs=0)


def test_serial_when_torch_already_uses_several_threads():
    torch.set_num_threads(2)
    assert "threads" in parallel.serial_reason() and worker_count(10) == 1


@pytest.mark.parametrize("text, cpus", [("200000 100000", 2), ("150000 100000", 1), ("50000 100000", 1),
                                        ("max 100000", None)])
def test_container_cpu_quota(text, cpus):
    assert cgroup_cpu_limit(text) == cpus


def test_in_a_jupyter_kernel_workers_fork_and_print_in_order(tmp_path):
    """The pages call map_runs from an IPython kernel: the workers must fork from it, not hang,
    and what they print must reach the notebook in task order."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, time, torch\ntorch.set_num_threads(1)\nfrom dldna_helpers.parallel import map_runs\n"
        "def where(k):\n    print('task', k)\n    time.sleep(0.5)  # long enough for both workers to get tasks\n"
        "    return os.getpid()\n"
        "pids = map_runs(where, range(4), jobs=2)\n"
        "print(len(set(pids)), os.getpid() in pids)")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert text == "task 0\ntask 1\ntask 2\ntask 3\n2 False\n"
