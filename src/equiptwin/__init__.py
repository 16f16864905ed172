"""equiptwin: predictive-maintenance digital twin for hospital imaging fleets.

The package reads like the data flow: ``ingest`` -> ``store`` -> ``features`` ->
``twin`` | ``survival`` -> ``forecast`` -> ``planning`` -> ``outputs``, run by the
``scheduler`` or by hand through the ``cli``.
"""

__version__ = "0.1.0"
