"""How long validating and rendering the whole course takes, against plain Markdown rendering as a baseline.

Run: .venv/bin/python benchmarks/content.py [--repeat N]
Prints the median of N runs for: validating content/ (parse + catalog checks), rendering every module
(Markdown, quizzes, sanitizing), and the baseline: markdown-it alone on the same text, without quizzes or
sanitizing. Also the cost of reading a stored rendering back, which is what a module page does per request.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt

from course import RenderedModule, load_catalog, render_module

CONTENT = Path(__file__).resolve().parent.parent / "content"


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of `repeat` runs of `action`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat

    catalog = load_catalog(CONTENT)
    sources = [module.source for module in catalog.modules]
    plain = MarkdownIt("commonmark").enable("table")
    stored = [json.dumps(render_module(module).to_dict()) for module in catalog.modules]

    baseline = median_seconds(lambda: [plain.render(source) for source in sources], repeat)
    validate = median_seconds(lambda: load_catalog(CONTENT), repeat)
    render = median_seconds(lambda: [render_module(module) for module in catalog.modules], repeat)
    read_back = median_seconds(lambda: [RenderedModule.from_dict(json.loads(text)) for text in stored], repeat)

    words = sum(len(source.split()) for source in sources)
    print(f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, median of {repeat} runs")
    print(f"Course: {len(catalog.modules)} modules, {catalog.question_count} questions, {words:,} words")
    print(f"  baseline: markdown-it alone, all modules      {baseline * 1000:8.1f} ms   1.0x")
    print(f"  validate content/ (parse + checks)            {validate * 1000:8.1f} ms   {validate / baseline:.1f}x")
    print(f"  render all modules (incl. sanitize, quizzes)  {render * 1000:8.1f} ms   {render / baseline:.1f}x")
    print(f"  read stored renderings back (per request)     {read_back * 1000:8.1f} ms   {read_back / baseline:.2f}x")
    print(f"  one module page's rendering: stored {read_back / len(sources) * 1000:.2f} ms vs rendered {render / len(sources) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
