from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from engine.events import Event, image_base_hash


def test_time_is_normalized_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    ev = Event(id="m1", type="x", time=datetime(2026, 1, 1, 13, 0, tzinfo=cet))
    assert ev.time == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert ev.time.tzinfo is UTC


def test_naive_time_is_taken_as_utc() -> None:
    ev = Event(id="m1", type="x", time="2018-05-29 20:12:38.640725")
    assert ev.time == datetime(2018, 5, 29, 20, 12, 38, 640725, tzinfo=UTC)


def test_unknown_envelope_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="instance_uuid"):
        Event(id="m1", type="x", time=datetime.now(UTC), instance_uuid="abc")


def test_field_falls_back_to_data() -> None:
    ev = Event(id="m1", type="x", time=datetime.now(UTC), mac="FA:16:3E:24:E7:22",
               data={"switch": "SW-1"})
    assert ev.field("mac") == "fa:16:3e:24:e7:22"
    assert ev.field("switch") == "SW-1"
    assert ev.field("absent") is None


def test_image_base_hash_matches_nova_corpus_pair() -> None:
    # SOURCES.md: loghub's base file a489c8... is sha1 of image 0673dd71-...
    assert image_base_hash("0673dd71-34c5-4fbb-86c4-40623fbe45b4") == (
        "a489c868f0c37da93b76227c91bb03908ac0e742"
    )


def test_image_base_hash_remembered_equals_sha1() -> None:
    """The memo answers as hashlib does, on first and repeated calls, past its size."""
    import hashlib

    ids = [f"image-{n}" for n in range(5000)] + ["0673dd71-34c5-4fbb-86c4-40623fbe45b4", "é"]
    for _ in range(2):
        for image_id in ids:
            assert image_base_hash(image_id) == hashlib.sha1(image_id.encode()).hexdigest()
