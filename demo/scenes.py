"""Street scenes rendered with Pillow from a seeded random layout: cars (boxes with a
nested colour), people (polygons), puddles (masks), wheels (points), lane lines (polylines)
and the weather, then "detected" by a noisy detector whose confidence falls as its error grows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from demo.images import rle

WIDTH, HEIGHT = 320, 240
HORIZON = 96
CAR_COLORS = {
    "red": (196, 38, 38),
    "blue": (38, 72, 186),
    "white": (232, 232, 228),
    "black": (34, 34, 38),
}
ONTOLOGY: dict[str, Any] = {
    "tools": [
        {
            "name": "car",
            "tool": "BBOX",
            "classifications": [{"name": "color", "kind": "RADIO", "answers": list(CAR_COLORS)}],
        },
        {"name": "person", "tool": "POLYGON"},
        {"name": "puddle", "tool": "MASK"},
        {"name": "wheel", "tool": "POINT"},
        {"name": "lane", "tool": "POLYLINE"},
    ],
    "classifications": [{"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]}],
}
# A person's outline as (x, y) in heights from the feet: square head, arms, legs.
PERSON = (
    (-0.08, -1.0), (0.08, -1.0), (0.08, -0.86), (0.19, -0.8), (0.16, -0.45), (0.1, -0.45), (0.1, 0.0),
    (-0.1, 0.0), (-0.1, -0.45), (-0.16, -0.45), (-0.19, -0.8), (-0.08, -0.86),
)  # fmt: skip
MISS_RATE = 0.05
# The detector's error is up to this share of an object's size (a box's height, a person's
# width): big enough to fail IoU thresholds, with a confidence that falls as it grows.
MAX_ERROR = 0.3
# The size of lanes, whose length says nothing about how far off a line may be.
LANE_SIZE = 12.0
FALSE_ALARMS_PER_SCENE = 0.5


@dataclass(frozen=True)
class Thing:
    """One object of a scene. `shape` is in the upload format, except a mask's, which is
    kept as pixels so that the detector can shift it; `size` scales the detector's error."""

    name: str
    geometry: str
    shape: Any
    color: str | None = None
    size: float = 0.0

    def annotation(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "name": self.name,
            self.geometry: rle(self.shape) if self.geometry == "mask" else self.shape,
        }
        if self.color is not None:
            line["classifications"] = [{"name": "color", "answer": {"name": self.color}}]
        return line


@dataclass(frozen=True)
class Detection:
    """What the detector says about one thing: moved by `jitter` pixels, or a false alarm."""

    thing: Thing
    confidence: float
    jitter: float = 0.0
    false_alarm: bool = False


@dataclass(frozen=True)
class Scene:
    key: str
    image: Image.Image
    things: list[Thing]
    detections: list[Detection]

    @property
    def weather(self) -> str:
        return str(next(t.shape["name"] for t in self.things if t.name == "weather"))

    def row(self, row_data: str) -> dict[str, Any]:
        return {
            "globalKey": self.key,
            "rowData": row_data,
            "width": WIDTH,
            "height": HEIGHT,
            "metadata": {"weather": self.weather, "objects": len(self.things) - 1},
            "labels": [t.annotation() for t in self.things],
        }

    def predictions(self) -> list[dict[str, Any]]:
        row = {"globalKey": self.key}
        return [
            {"dataRow": row, **d.thing.annotation(), "confidence": d.confidence}
            for d in self.detections
        ]

    def custom_metrics(self) -> list[dict[str, Any]]:
        """The detector's own error and false alarms, to sort and filter the gallery by."""
        row = {"globalKey": self.key}
        false_alarms = sum(d.false_alarm for d in self.detections)
        found = [
            d.jitter for d in self.detections if not d.false_alarm and d.thing.geometry != "answer"
        ]
        lines = [
            {
                "dataRow": row,
                "metricName": "false_alarms",
                "metricValue": false_alarms,
                "aggregation": "SUM",
            }
        ]
        if found:
            lines.append(
                {
                    "dataRow": row,
                    "metricName": "jitter_px",
                    "metricValue": round(float(np.mean(found)), 2),
                }
            )
        return lines


def render(index: int, seed: int) -> Scene:
    """Scene `index`: the same picture, labels and detections for the same seed."""
    rng = np.random.default_rng([seed, index])
    weather = "rainy" if rng.random() < 0.4 else "sunny"
    image = Image.new(
        "RGB", (WIDTH, HEIGHT), (150, 156, 166) if weather == "rainy" else (140, 190, 235)
    )
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HORIZON, WIDTH, HEIGHT), fill=(92, 94, 98))
    things = [
        *_lanes(draw, rng),
        *_puddles(draw, rng, weather),
        *_cars(draw, rng),
        *_people(draw, rng),
    ]
    detections = [d for t in things if (d := _detect(t, rng)) is not None]
    return Scene(
        f"scenes/{index:03d}.png",
        image,
        [*things, Thing("weather", "answer", {"name": weather})],
        [*detections, _guess_weather(weather, rng), *_false_alarms(rng)],
    )


def _lanes(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> list[Thing]:
    """Two or three lane lines that bend a little on their way to the horizon."""
    vanishing = WIDTH / 2 + rng.uniform(-30, 30)
    lanes = []
    for bottom in np.linspace(20, WIDTH - 20, int(rng.integers(2, 4))):
        bend = rng.uniform(-15, 15)
        points = [
            (bottom, HEIGHT),
            ((bottom + vanishing) / 2 + bend, (HEIGHT + HORIZON) / 2),
            (vanishing, HORIZON),
        ]
        draw.line(points, fill=(236, 226, 120), width=3)
        lanes.append(Thing("lane", "line", _points(points), size=LANE_SIZE))
    return lanes


def _puddles(draw: ImageDraw.ImageDraw, rng: np.random.Generator, weather: str) -> list[Thing]:
    puddles = []
    for _ in range(int(rng.integers(1, 3)) if weather == "rainy" else 0):
        x, y = rng.uniform(40, WIDTH - 40), rng.uniform(HORIZON + 50, HEIGHT - 15)
        rx, ry = rng.uniform(15, 35), rng.uniform(5, 11)
        box = (x - rx, y - ry, x + rx, y + ry)
        draw.ellipse(box, fill=(70, 86, 112))
        stencil = Image.new("1", (WIDTH, HEIGHT))
        ImageDraw.Draw(stencil).ellipse(box, fill=1)
        puddles.append(Thing("puddle", "mask", np.array(stencil, dtype=bool), size=2 * ry))
    return puddles


def _cars(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> list[Thing]:
    """Cars from far to near (drawn in that order), each a roof, a body and two wheels."""
    things: list[Thing] = []
    for nearness in sorted(rng.uniform(0, 1, int(rng.integers(1, 4)))):
        width = 44 + 52 * nearness
        height = width * 0.55
        left = rng.uniform(0, WIDTH - width)
        top = _ground(nearness, rng) - height
        color = str(rng.choice(list(CAR_COLORS)))
        draw.rectangle(
            (left + 0.2 * width, top, left + 0.8 * width, top + 0.45 * height),
            fill=CAR_COLORS[color],
        )
        draw.rectangle(
            (left + 0.28 * width, top + 0.08 * height, left + 0.72 * width, top + 0.38 * height),
            fill=(170, 200, 220),
        )
        draw.rectangle(
            (left, top + 0.4 * height, left + width, top + 0.85 * height), fill=CAR_COLORS[color]
        )
        wheels = [(left + share * width, top + 0.85 * height) for share in (0.22, 0.78)]
        radius = 0.15 * height
        for x, y in wheels:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(20, 20, 20))
        box = {
            "left": round(left, 1),
            "top": round(top, 1),
            "width": round(width, 1),
            "height": round(height, 1),
        }
        things.append(Thing("car", "bbox", box, color, size=height))
        things.extend(Thing("wheel", "point", _point(x, y), size=2 * radius) for x, y in wheels)
    return things


def _people(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> list[Thing]:
    people = []
    for nearness in sorted(rng.uniform(0, 1, int(rng.integers(0, 4)))):
        x, feet, tall = rng.uniform(15, WIDTH - 15), _ground(nearness, rng), 28 + 36 * nearness
        outline = [(x + dx * tall, feet + dy * tall) for dx, dy in PERSON]
        draw.polygon(outline, fill=tuple(int(c) for c in rng.integers(30, 220, 3)))
        people.append(Thing("person", "polygon", _points(outline), size=0.38 * tall))
    return people


def _ground(nearness: float, rng: np.random.Generator) -> float:
    """Where something of that nearness (0 far, 1 near) stands: nearer is lower, and bigger."""
    return float(
        np.clip(
            HORIZON + 24 + nearness * (HEIGHT - HORIZON - 30) + rng.uniform(-6, 6),
            HORIZON + 10,
            HEIGHT - 2,
        )
    )


def _detect(thing: Thing, rng: np.random.Generator) -> Detection | None:
    """The thing moved by a random error of up to MAX_ERROR of its size, or missed; the
    bigger the error, the lower the confidence, so confidence thresholds trade recall for
    precision."""
    if rng.random() < MISS_RATE:
        return None
    error = float(rng.uniform(0, MAX_ERROR))
    confidence = float(np.clip(0.98 - 1.5 * error + rng.normal(0, 0.03), 0.05, 0.99))
    jitter = error * thing.size
    color = thing.color
    if color is not None and rng.random() < 0.15:
        color = str(rng.choice([c for c in CAR_COLORS if c != color]))
    return Detection(
        replace(thing, shape=_jittered(thing, jitter, rng), color=color),
        round(confidence, 3),
        jitter,
    )


def _jittered(thing: Thing, jitter: float, rng: np.random.Generator) -> Any:
    shape = thing.shape
    if thing.geometry == "bbox":
        left, top, width, height = rng.normal(0, jitter, 4)
        return {
            "left": round(shape["left"] + left, 1),
            "top": round(shape["top"] + top, 1),
            "width": round(max(2.0, shape["width"] + width), 1),
            "height": round(max(2.0, shape["height"] + height), 1),
        }
    if thing.geometry == "mask":
        return _shifted(shape, *np.round(rng.normal(0, jitter, 2)).astype(int))
    if thing.geometry == "point":
        return _point(shape["x"] + rng.normal(0, jitter), shape["y"] + rng.normal(0, jitter))
    return [_point(p["x"] + rng.normal(0, jitter), p["y"] + rng.normal(0, jitter)) for p in shape]


def _guess_weather(weather: str, rng: np.random.Generator) -> Detection:
    """Right nine times in ten."""
    guess = weather if rng.random() < 0.9 else ("sunny" if weather == "rainy" else "rainy")
    return Detection(
        Thing("weather", "answer", {"name": guess}), round(float(rng.uniform(0.55, 0.99)), 3)
    )


def _false_alarms(rng: np.random.Generator) -> list[Detection]:
    """Cars and people that are not there, with low confidences."""
    alarms = []
    for _ in range(int(rng.poisson(FALSE_ALARMS_PER_SCENE))):
        x, y, size = (
            rng.uniform(20, WIDTH - 60),
            rng.uniform(HORIZON, HEIGHT - 40),
            rng.uniform(20, 40),
        )
        if rng.random() < 0.5:
            box = {
                "left": round(x, 1),
                "top": round(y, 1),
                "width": round(size, 1),
                "height": round(size * 0.55, 1),
            }
            thing = Thing("car", "bbox", box, str(rng.choice(list(CAR_COLORS))))
        else:
            thing = Thing(
                "person",
                "polygon",
                _points([(x + dx * size, y + size + dy * size) for dx, dy in PERSON]),
            )
        alarms.append(Detection(thing, round(float(rng.uniform(0.1, 0.5)), 3), false_alarm=True))
    return alarms


def _shifted(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The mask moved by (dy, dx) pixels; what leaves the image is lost, nothing wraps round."""
    moved = np.zeros_like(mask)
    height, width = mask.shape
    moved[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = mask[
        max(-dy, 0) : height + min(-dy, 0), max(-dx, 0) : width + min(-dx, 0)
    ]
    return moved


def _point(x: float, y: float) -> dict[str, float]:
    return {"x": round(float(x), 1), "y": round(float(y), 1)}


def _points(points: list[tuple[float, float]]) -> list[dict[str, float]]:
    return [_point(x, y) for x, y in points]
