"""The circuit breaker's state machine (datasources/breaker.py), with a clock the test moves."""

from __future__ import annotations

from datasources.breaker import Admission, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, changes: list | None = None) -> CircuitBreaker:
    return CircuitBreaker("circulation", failure_threshold=3, cooldown=10.0, clock=clock,
                          on_change=(lambda b, previous: changes.append((previous, b.state))) if changes is not None
                          else None)


def opened(clock: Clock, changes: list | None = None) -> CircuitBreaker:
    subject = breaker(clock, changes)
    for _ in range(3):
        subject.admit()
        subject.failed()
    return subject


def test_opens_after_the_threshold_of_consecutive_failures():
    # given
    clock, changes = Clock(), []
    subject = breaker(clock, changes)

    # when
    for _ in range(3):
        assert subject.admit() is Admission.CALL
        subject.failed()

    # then
    assert subject.state is BreakerState.OPEN
    assert subject.admit() is Admission.REFUSED
    assert changes == [(BreakerState.CLOSED, BreakerState.OPEN)]


def test_a_success_resets_the_count_of_consecutive_failures():
    subject = breaker(Clock())

    for outcome in ("failed", "failed", "succeeded", "failed", "failed"):
        subject.admit()
        getattr(subject, outcome)()

    assert subject.state is BreakerState.CLOSED


def test_after_the_cooldown_one_probe_goes_through_and_its_success_closes():
    # given: open
    clock, changes = Clock(), []
    subject = opened(clock, changes)

    # when: the cool-down passes
    clock.now += 9.9
    refused_before = subject.admit()
    clock.now += 0.1
    probe = subject.admit()
    while_probing = subject.admit()
    subject.succeeded()

    # then
    assert (refused_before, probe, while_probing) == (Admission.REFUSED, Admission.PROBE, Admission.REFUSED)
    assert subject.state is BreakerState.CLOSED and subject.admit() is Admission.CALL
    assert changes == [(BreakerState.CLOSED, BreakerState.OPEN), (BreakerState.OPEN, BreakerState.HALF_OPEN),
                       (BreakerState.HALF_OPEN, BreakerState.CLOSED)]


def test_a_failed_probe_opens_again_for_a_whole_cooldown():
    clock = Clock()
    subject = opened(clock)
    clock.now += 10

    assert subject.admit() is Admission.PROBE
    subject.failed()

    assert subject.state is BreakerState.OPEN
    clock.now += 9
    assert subject.admit() is Admission.REFUSED
    clock.now += 1
    assert subject.admit() is Admission.PROBE


def test_an_abandoned_probe_frees_the_slot_for_the_next_caller():
    clock = Clock()
    subject = opened(clock)
    clock.now += 10
    probe = subject.admit()

    subject.abandoned(probe)

    assert subject.state is BreakerState.HALF_OPEN
    assert subject.admit() is Admission.PROBE
