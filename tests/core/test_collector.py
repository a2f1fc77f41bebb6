"""core.collector: the cyclic collector is off inside bulk work and always on again after it."""

import gc
import threading

import pytest

from core.collector import collector_paused


@pytest.fixture(autouse=True)
def _collector_on():
    gc.enable()
    yield
    gc.enable()


def test_off_inside_on_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_on_again_after_an_exception():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("写入失败")
    assert gc.isenabled()


def test_nested_block_leaves_it_off_until_the_outer_one_ends():
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_elsewhere_stays_off():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_threads_never_leave_it_off():
    """Two requests of one gthread worker: the second starts while the first is inside, the first ends first."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with collector_paused():
            second_in.set()
            first_out.wait(5)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert gc.isenabled()


def test_decorator_passes_arguments_and_result():
    @collector_paused()
    def work(a, *, b):
        return a + b, gc.isenabled()

    assert work(1, b=2) == (3, False)
    assert gc.isenabled()
