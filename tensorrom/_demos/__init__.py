"""Demo sections run by ``tensorrom demo``: one module per finished part.

Each module defines ``TITLE`` (str) and ``run(out: pathlib.Path, quick: bool) ->
list[tuple[str, str]]`` which writes its figures (PNG and PDF) into ``out`` and returns
summary rows ``(quantity, value)``. Long steps show a tqdm progress bar. A part adds its
demo by appending its module name to ``SECTIONS``.
"""

SECTIONS: list[str] = [
    "tensorrom._demos.data",
    "tensorrom._demos.mpm",
    "tensorrom._demos.chebtucker",
    "tensorrom._demos.phirom",
    "tensorrom._demos.potentials",
    "tensorrom._demos.giorom",
    "tensorrom._demos.funbat",
]
