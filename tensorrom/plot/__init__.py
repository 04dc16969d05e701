"""Paper-style figures. matplotlib is imported only when a figure is drawn."""

from ._figures import curves_with_band as curves_with_band
from ._figures import field_slice as field_slice
from ._figures import scatter_points as scatter_points
from ._style import COLUMN_WIDTH as COLUMN_WIDTH
from ._style import PAGE_WIDTH as PAGE_WIDTH
from ._style import savefig as savefig
from ._style import style as style
from ._style import style_path as style_path

__all__ = ["style", "style_path", "savefig", "field_slice", "scatter_points",
           "curves_with_band", "COLUMN_WIDTH", "PAGE_WIDTH"]
