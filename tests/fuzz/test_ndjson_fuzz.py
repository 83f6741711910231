"""NDJSON bodies generated for every bulk upload route, sent to a live server over a seeded
dataset and run: lines of the right shape with odd values (NUL and lone surrogates as JSON
escapes, integers beyond 64 bits, NaN and Infinity, deep nesting, very long text, wrong
types, missing and unknown keys), real global keys, row ids and feature names mixed in, and
bodies that are not NDJSON at all (broken JSON, bytes that are not UTF-8, blank lines, CRLF,
gzip right and wrong, other content types).

Whatever the body, the answer is JSON and never 5xx nor an unexpected exception
("Internal error."); a refusal names what it refuses and records nothing of the upload; an
acceptance counts every non-blank line; and every read model keeps running (/ready 200).
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.seed import SPACE, Seeded, wait_ready
from tests.fuzz.strategies import BIG_INTS, TEXT, budget, json_values
from tests.server.live import LiveServer

READY_EVERY = 40
# The server runs in this process: its threads may use `random` while an example is drawn,
# which Hypothesis would take for a strategy doing so.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
)
LONG = 70_000

FUZZ = budget(1000)


# Values -----------------------------------------------------------------------------------

ODD_NUMBERS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324, 2**64 - 1, 2**64]),
    BIG_INTS,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    TEXT,
)


def numbers(low: float, high: float) -> st.SearchStrategy[Any]:
    """Mostly in range, as a client means them; sometimes anything a number can be spelled as."""
    return st.one_of(
        st.integers(int(low), int(high)),
        st.floats(low, high),
        st.integers(int(low), int(high)),
        st.floats(low, high),
        ODD_NUMBERS,
    )


@dataclass(frozen=True)
class Pools:
    """What the fuzzer aims at: the seeded rows, features and names."""

    dataset_id: str
    model_id: str
    run_id: str
    global_keys: list[str]
    row_ids: list[str]
    feature_names: list[str]
    feature_ids: list[str]
    names: list[str]

    @classmethod
    def of(cls, seeded: Seeded) -> Pools:
        keys = [name for name in seeded.names if "/" in name and "." in name]
        features = [name for name in seeded.names if name not in keys and name[0].islower()]
        return cls(
            seeded.dataset_id,
            seeded.model_id,
            seeded.run_id,
            keys,
            seeded.row_ids,
            features,
            seeded.feature_ids,
            seeded.names,
        )

    def __repr__(self) -> str:
        return "Pools(the seeded server)"

    def text(self) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.sampled_from(self.names), TEXT, st.just("a\u0000b"), st.just("x" * LONG)
        )

    def data_row(self) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.fixed_dictionaries({"globalKey": st.sampled_from(self.global_keys)}),
            st.fixed_dictionaries({"globalKey": st.sampled_from(self.global_keys)}),
            st.fixed_dictionaries({"id": st.sampled_from(self.row_ids)}),
            st.fixed_dictionaries({"id": st.one_of(st.uuids().map(str), self.text())}),
            st.fixed_dictionaries({"globalKey": self.text(), "id": st.sampled_from(self.row_ids)}),
            st.fixed_dictionaries({}),
            json_values(self.names),
        )

    def feature(self) -> st.SearchStrategy[dict[str, Any]]:
        return st.one_of(
            st.fixed_dictionaries({"name": st.sampled_from(self.feature_names)}),
            st.fixed_dictionaries({"name": st.sampled_from(self.feature_names)}),
            st.fixed_dictionaries({"schemaId": st.sampled_from(self.feature_ids)}),
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(self.feature_names),
                    "schemaId": st.sampled_from(self.feature_ids),
                }
            ),
            st.fixed_dictionaries({"name": self.text()}),
        )


def point() -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({"x": numbers(-5, 10), "y": numbers(-5, 10)})


def geometry() -> st.SearchStrategy[dict[str, Any]]:
    ring = st.lists(point(), min_size=0, max_size=6)
    rle_counts = st.one_of(st.lists(numbers(-1, 12), max_size=6), TEXT, st.just("0"))
    mask = st.one_of(
        st.fixed_dictionaries(
            {
                "rle": st.fixed_dictionaries(
                    {"size": st.lists(numbers(-1, 5), max_size=3), "counts": rle_counts}
                )
            }
        ),
        st.fixed_dictionaries(
            {
                "png": st.one_of(
                    TEXT,
                    st.just(
                        "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAAAAACRn/EaAAAAEElEQVR42mNg+P+fgYkBBgAZCgIBv8NqoAAAAABJRU5ErkJggg=="
                    ),
                )
            },
            optional={"colorRGB": st.lists(numbers(-1, 300), max_size=4)},
        ),
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "bbox": st.fixed_dictionaries(
                    {
                        "left": numbers(-5, 10),
                        "top": numbers(-5, 10),
                        "width": numbers(-1, 10),
                        "height": numbers(-1, 10),
                    }
                )
            }
        ),
        st.fixed_dictionaries({"polygon": ring | st.lists(ring, max_size=3)}),
        st.fixed_dictionaries({"line": ring}),
        st.fixed_dictionaries({"point": point()}),
        st.fixed_dictionaries({"mask": mask}),
        st.fixed_dictionaries(
            {"location": st.fixed_dictionaries({"start": numbers(-2, 20), "end": numbers(-2, 20)})}
        ),
    )


def answers(pools: Pools, depth: int) -> st.SearchStrategy[Any]:
    answer_object = st.fixed_dictionaries(
        {
            "name": st.sampled_from(pools.feature_names)
            | st.sampled_from(["red", "blue", "sunny", "rainy", "night"])
        },
        optional={
            "confidence": numbers(0, 1),
            "classifications": classifications(pools, depth + 1),
        },
    )
    return st.one_of(answer_object, st.lists(answer_object, max_size=3), pools.text())


def classifications(pools: Pools, depth: int) -> st.SearchStrategy[Any]:
    if depth > 3:
        return st.just([])
    return st.deferred(
        lambda: st.lists(
            st.builds(
                lambda feature, answer, extra: {**feature, "answer": answer, **extra},
                pools.feature(),
                answers(pools, depth),
                st.fixed_dictionaries({}, optional={"confidence": numbers(0, 1)}),
            ),
            max_size=2,
        )
    )


def fitting(pools: Pools) -> st.SearchStrategy[dict[str, Any]]:
    """A feature of the seeded ontology with the geometry its tool takes, on a row it fits:
    what gets past validation, so that the values reach the commands and the read models."""
    image_row = st.fixed_dictionaries(
        {"globalKey": st.sampled_from([k for k in pools.global_keys if k.startswith("cam/")])}
    )
    text_row = st.just({"globalKey": "doc/0.txt"})
    coordinate = st.floats(-1, 5) | st.integers(0, 4)
    xy = st.fixed_dictionaries({"x": coordinate, "y": coordinate})
    size = st.floats(0.01, 4) | st.integers(1, 4)
    answer = st.sampled_from(["red", "blue"]).map(lambda name: {"name": name})
    counts = (
        st.lists(st.integers(0, 4), min_size=1, max_size=4)
        .map(lambda runs: [*runs, 12 - sum(runs)])
        .filter(lambda runs: runs[-1] >= 0)
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "name": st.just("car"),
                "dataRow": image_row,
                "bbox": st.fixed_dictionaries(
                    {"left": coordinate, "top": coordinate, "width": size, "height": size}
                ),
            },
            optional={
                "classifications": st.lists(
                    st.fixed_dictionaries({"name": st.just("color"), "answer": answer}), max_size=1
                )
            },
        ),
        st.fixed_dictionaries(
            {
                "name": st.just("person"),
                "dataRow": image_row,
                "polygon": st.lists(xy, min_size=3, max_size=6),
            }
        ),
        st.fixed_dictionaries(
            {
                "name": st.just("lane"),
                "dataRow": image_row,
                "line": st.lists(xy, min_size=2, max_size=5),
            }
        ),
        st.fixed_dictionaries({"name": st.just("wheel"), "dataRow": image_row, "point": xy}),
        st.fixed_dictionaries(
            {
                "name": st.just("road"),
                "dataRow": image_row,
                "mask": st.fixed_dictionaries(
                    {"rle": st.fixed_dictionaries({"size": st.just([3, 4]), "counts": counts})}
                ),
            }
        ),
        st.fixed_dictionaries(
            {
                "name": st.just("place"),
                "dataRow": text_row,
                "location": st.integers(0, 5).map(lambda start: {"start": start, "end": start + 3}),
            }
        ),
        st.fixed_dictionaries(
            {
                "name": st.just("weather"),
                "dataRow": image_row,
                "answer": st.sampled_from([{"name": "sunny"}, {"name": "rainy"}]),
            }
        ),
        st.fixed_dictionaries(
            {"name": st.just("caption"), "dataRow": image_row | text_row, "answer": pools.text()}
        ),
    ).flatmap(
        lambda line: st.fixed_dictionaries(
            {}, optional={"confidence": st.floats(0, 1)} if line["name"] != "caption" else {}
        ).map(lambda extra: {**line, **extra})
    )


def annotation(pools: Pools, with_data_row: bool) -> st.SearchStrategy[dict[str, Any]]:
    optional: dict[str, st.SearchStrategy[Any]] = {
        "confidence": numbers(0, 1),
        "classifications": classifications(pools, 0),
        "iscrowd": st.booleans() | ODD_NUMBERS,
        "area": numbers(0, 100),
        "uuid": st.uuids().map(str),
    }
    return st.builds(
        lambda feature, shape, extra, row: {**feature, **shape, **extra, **row},
        pools.feature(),
        geometry() | st.fixed_dictionaries({"answer": answers(pools, 0)}),
        st.fixed_dictionaries({}, optional=optional),
        st.fixed_dictionaries({"dataRow": pools.data_row()}) if with_data_row else st.just({}),
    )


def metadata(pools: Pools) -> st.SearchStrategy[Any]:
    return st.dictionaries(
        st.sampled_from(["camera", "speed", "when"]) | pools.text(),
        st.one_of(numbers(-100, 100), pools.text(), st.none(), json_values(pools.names)),
        max_size=3,
    )


def line_objects(pools: Pools, route: str) -> st.SearchStrategy[dict[str, Any]]:
    """One line of the route, of the shape it takes, with values anywhere from right to odd."""
    cam_keys = st.sampled_from([key for key in pools.global_keys if key.startswith("cam/")])
    if route == "data-rows":
        clean = st.fixed_dictionaries(
            {
                "globalKey": st.uuids().map(lambda u: f"new/{u}"),
                "rowData": st.just("https://assets.example/new.jpg"),
            },
            optional={
                "width": st.just(4),
                "height": st.just(3),
                "metadata": st.dictionaries(
                    st.sampled_from(["camera", "note"]), pools.text(), max_size=2
                ),
                "labels": st.lists(fitting(pools), max_size=2).map(
                    lambda labels: [
                        {k: v for k, v in label.items() if k != "dataRow"} for label in labels
                    ]
                ),
            },
        )
        return clean | st.fixed_dictionaries(
            {
                "globalKey": st.one_of(
                    st.uuids().map(lambda u: f"new/{u}"),
                    st.sampled_from(pools.global_keys),
                    pools.text(),
                )
            },
            optional={
                "rowData": st.sampled_from(
                    ["https://assets.example/x.jpg", "ftp://x", "/assets/x/y.png", ""]
                )
                | pools.text(),
                "mediaType": st.sampled_from(["IMAGE", "text", "VIDEO", "DOCUMENT", "HOLOGRAM"])
                | ODD_NUMBERS,
                "width": numbers(-1, 8),
                "height": numbers(-1, 8),
                "metadata": metadata(pools),
                "labels": st.lists(annotation(pools, with_data_row=False), max_size=3),
            },
        )
    if route == "metadata":
        return st.fixed_dictionaries({"dataRow": pools.data_row(), "metadata": metadata(pools)})
    if route == "labels":
        return st.fixed_dictionaries(
            {
                "dataRow": pools.data_row(),
                "labels": st.lists(annotation(pools, with_data_row=False), max_size=3),
            }
        ) | fitting(pools).map(lambda label: {"dataRow": label.pop("dataRow"), "labels": [label]})
    if route == "predictions":
        return annotation(pools, with_data_row=True) | fitting(pools) | fitting(pools)
    if route == "custom-metrics":
        clean = st.fixed_dictionaries(
            {
                "dataRow": cam_keys.map(lambda key: {"globalKey": key}),
                "metricName": st.sampled_from(["blur", "sharpness"]),
                "metricValue": st.floats(0.01, 1)
                | st.fixed_dictionaries({"0.5": st.floats(0.01, 1)}),
            },
            optional={
                "featureName": st.sampled_from(["car", "person"]),
                "aggregation": st.sampled_from(["SUM", "GEOMETRIC_MEAN"]),
            },
        )
        return clean | st.fixed_dictionaries(
            {
                "dataRow": pools.data_row(),
                "metricName": st.sampled_from(["blur", "sharpness", "f1", "TP"]) | pools.text(),
                "metricValue": numbers(-1, 2)
                | st.dictionaries(
                    st.sampled_from(["0.5", "0.9", "1.5", "x"]) | TEXT, numbers(-1, 2), max_size=3
                ),
            },
            optional={
                "featureName": st.sampled_from(pools.feature_names) | pools.text(),
                "aggregation": st.sampled_from(
                    ["ARITHMETIC_MEAN", "GEOMETRIC_MEAN", "HARMONIC_MEAN", "SUM", "MEDIAN"]
                )
                | ODD_NUMBERS,
            },
        )
    assert route.startswith("embeddings/")
    vector = st.one_of(
        st.lists(numbers(-1, 1), min_size=3, max_size=3),
        st.lists(numbers(-1, 1), max_size=5),
        st.just([0.0] * 5000),
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "globalKey": cam_keys,
                "vector": st.lists(st.floats(-1, 1) | st.integers(-5, 5), min_size=3, max_size=3),
            }
        ),
        st.fixed_dictionaries({"dataRow": pools.data_row(), "vector": vector}),
        st.fixed_dictionaries(
            {"globalKey": st.sampled_from(pools.global_keys) | pools.text(), "vector": vector}
        ),
        st.fixed_dictionaries(
            {"id": st.sampled_from(pools.row_ids) | pools.text(), "vector": vector}
        ),
    )


DEEP = "deep nesting goes here"


@st.composite
def twisted(draw: st.DrawFn, line: st.SearchStrategy[dict[str, Any]], pools: Pools) -> bytes:
    """The line as generated, or with a key dropped, a key added, a value swapped for
    anything, a value nested deep, or the whole line something else than an object."""
    obj = draw(line)
    how = draw(st.sampled_from(["as is", "as is", "as is", "drop", "add", "swap", "other", "deep"]))
    if how == "drop" and obj:
        obj.pop(draw(st.sampled_from(sorted(obj))))
    elif how == "add":
        obj[
            draw(st.sampled_from(["confidance", "globalkey", "extra", "dataRow", "labels"]) | TEXT)
        ] = draw(json_values(pools.names))
    elif how == "swap" and obj:
        obj[draw(st.sampled_from(sorted(obj)))] = draw(json_values(pools.names) | ODD_NUMBERS)
    elif how == "other":
        return encoded(draw(json_values(pools.names)))
    elif how == "deep" and obj:
        depth = draw(st.sampled_from([50, 300, 2000]))
        opening, closing = draw(st.sampled_from([(b"[", b"]"), (b'{"classifications": [', b"]}")]))
        obj[draw(st.sampled_from(sorted(obj)))] = DEEP
        return encoded(obj).replace(encoded(DEEP), opening * depth + b"{}" + closing * depth)
    return encoded(obj)


def encoded(value: Any) -> bytes:
    """JSON as a client may write it: every non-ASCII character escaped (a lone surrogate
    can only be sent so), NaN and Infinity spelled out, integers of any size."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode("ascii")


def raw_lines() -> st.SearchStrategy[bytes]:
    """Lines that are not JSON objects, or not JSON, or not UTF-8."""
    return st.one_of(
        st.sampled_from(
            [
                b"",
                b"   ",
                b"\t",
                b"{",
                b'{"globalKey": "cam/0.jpg"',
                b"[1, 2,]",
                b"NaN",
                b'{"a": Infinity}',
                b'{"x": 1e999}',
                b'"\\ud800"',
                b'{"k": "\\ud800\\u0000"}',
                b"\xff\xfe\xfd",
                b'{"globalKey": "\xc3\x28"}',
                b"\x00",
                b"[" * 5000 + b"]" * 5000,
                b'{"a":' * 3000 + b"1" + b"}" * 3000,
                b"18446744073709551615",
                b'{"vector": [18446744073709551615]}',
                b"\xef\xbb\xbf{}",
            ]
        ),
        st.binary(max_size=60),
    )


@dataclass
class Upload:
    path: str
    owner: str
    body: bytes
    plain: bytes
    headers: dict[str, str]


ROUTES = [
    "data-rows",
    "metadata",
    "labels",
    "predictions",
    "custom-metrics",
    f"embeddings/{SPACE}",
    "embeddings/fresh",
]


@st.composite
def uploads(draw: st.DrawFn, pools: Pools) -> Upload:
    route = draw(st.sampled_from(ROUTES))
    of_run = route in ("predictions", "custom-metrics")
    real_owner = pools.run_id if of_run else pools.dataset_id
    owner = draw(
        st.sampled_from(
            [real_owner] * 20
            + [pools.model_id, "not-an-id", "00000000-0000-0000-0000-000000000000"]
        )
    )
    if route == "embeddings/fresh":
        # A name that is empty, a dot segment or holds "/" makes a path of no route at all
        # (answered by the router, not by the upload route).
        name = draw(
            st.sampled_from(["fresh", "a b", "x" * 300, "%00", "é", "..."])
            | TEXT.filter(lambda text: text.strip(".") != "" and "/" not in text)
        )
        route = "embeddings/" + quote(name, safe="")
    path = f"/upload/{'model-runs' if of_run else 'datasets'}/{owner}/{route}"

    objects = line_objects(pools, route if not route.startswith("embeddings/") else "embeddings/")
    # Some uploads are all of the route's shape (they may well be accepted), others anything.
    shaped = st.one_of(
        objects.map(encoded), objects.map(encoded), objects.map(encoded), twisted(objects, pools)
    )
    one_line = shaped if draw(st.booleans()) else st.one_of(shaped, raw_lines())
    lines = draw(st.lists(one_line, min_size=0, max_size=5))
    end = draw(st.sampled_from([b"\n", b"\n", b"\r\n"]))
    plain = end.join(lines) + draw(st.sampled_from([end, b""]))

    headers = {
        "Content-Type": draw(
            st.sampled_from(
                ["application/x-ndjson"] * 12
                + [
                    "application/json",
                    "text/plain; charset=latin-1",
                    "multipart/form-data; boundary=x",
                    "",
                ]
            )
        )
    }
    encoding = draw(st.sampled_from(["identity"] * 12 + ["gzip"] * 4 + ["gzip-lies", "br"]))
    body = plain
    if encoding == "gzip":
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(plain)
    elif encoding == "gzip-lies":
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(plain)[: draw(st.integers(0, 30))] if draw(st.booleans()) else plain
    elif encoding == "br":
        headers["Content-Encoding"] = "br"
    if draw(st.integers(0, 9)) == 0:
        headers["Idempotency-Key"] = draw(
            st.sampled_from(["fuzz-1", "fuzz-2", "has space", "é", "x" * 300]) | st.uuids().map(str)
        )
    return Upload(path, owner, body, plain, headers)


# The test ---------------------------------------------------------------------------------


def _version(live: LiveServer, owner: str) -> int | None:
    try:
        return int(live.runtime.app.repository.get(UUID(owner)).version)
    except Exception:  # noqa: BLE001 (not an id, or nothing of that id: no version to compare)
        return None


def test_generated_uploads(live: LiveServer, writer: httpx.Client, seeded: Seeded) -> None:
    pools = Pools.of(seeded)
    strategy = uploads(pools)
    sent = 0

    @FUZZ
    @given(data=st.data())
    def each(data: st.DataObject) -> None:
        nonlocal sent
        upload = data.draw(strategy, label="upload")
        before = _version(live, upload.owner)
        # Bytes: a header value may hold what ASCII cannot (sent as UTF-8).
        headers = {
            name.encode("ascii"): value.encode("utf-8") for name, value in upload.headers.items()
        }
        response = writer.post(upload.path, content=upload.body, headers=headers)
        shown = f"{upload.path} {upload.headers} {upload.plain[:2000]!r}"
        assert response.status_code < 500, (response.status_code, response.text, shown)
        try:
            answer = response.json()
        except ValueError:
            pytest.fail(f"not JSON ({response.status_code}): {response.text[:500]!r} for {shown}")
        assert "Internal error." not in response.text, (response.text, shown)
        if response.status_code == 200:
            non_blank = sum(1 for line in upload.plain.split(b"\n") if line.strip())
            assert answer["accepted"] == non_blank, (answer, shown)
        else:
            errors = answer["errors"]
            assert errors and all(isinstance(e["message"], str) and e["message"] for e in errors), (
                answer,
                shown,
            )
            assert _version(live, upload.owner) == before, (
                "a refused upload was recorded",
                answer,
                shown,
            )
        sent += 1
        if sent % READY_EVERY == 0:
            ready = wait_ready(live)
            assert ready.status_code == 200, ready.text

    each()
    assert sent > 0
    ready = wait_ready(live)
    assert ready.status_code == 200, ready.text
