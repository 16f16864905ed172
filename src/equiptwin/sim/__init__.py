"""The fleet simulator: realistic fleet directories with known truth.

Reads like the data it makes: :mod:`~equiptwin.sim.spec` (arguments and systems) ->
:mod:`~equiptwin.sim.workload` (bookings, exams) -> :mod:`~equiptwin.sim.lifecycle`,
:mod:`~equiptwin.sim.tube`, :mod:`~equiptwin.sim.mr` (the twin's physics through the days)
-> :mod:`~equiptwin.sim.console`, :mod:`~equiptwin.sim.cmms`,
:mod:`~equiptwin.sim.schedule`, :mod:`~equiptwin.sim.writers` (the files) ->
:mod:`~equiptwin.sim.fleet` (:func:`~equiptwin.sim.fleet.simulate_fleet`, the entry point).
"""
