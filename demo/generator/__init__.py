"""A deterministic generator of a realistic science-and-technology finance service center.

Used by the demo, the benchmarks and the tests: `generate_center(session, seed=42)`.
All names are fictional; identifiers (统一社会信用代码) are valid but random.
"""

from demo.generator.center import generate_center

__all__ = ["generate_center"]
