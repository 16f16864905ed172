from __future__ import annotations

from collections.abc import Callable

import pytest

from equiptwin.ingest.mapping import load_mappings
from equiptwin.ingest.parsers.base import BlockContext
from equiptwin.ingest.privacy import Privacy
from equiptwin.ingest.quarantine import QuarantineBuffer

SYSTEMS = {
    "CT-AMS-01": "Europe/Amsterdam",
    "XR-UTR-03": "Europe/Amsterdam",
    "MR-AMS-01": "Europe/Amsterdam",
}


@pytest.fixture
def make_ctx() -> Callable[..., BlockContext]:
    def make(
        source: str = "events", sections: dict[str, object] | None = None, header: str | None = None
    ) -> BlockContext:
        mappings = load_mappings(sections or {})
        return BlockContext(
            source,
            f"{source}/x",
            1,
            header,
            SYSTEMS,
            mappings,
            Privacy(b"k", mappings.events.drop_params),
            QuarantineBuffer(),
            {k: ("AMS", "CT") for k in SYSTEMS},
        )

    return make
