import matplotlib
import numpy as np
import pytest

import tensorrom as tr

matplotlib.use("Agg")


def test_style_sheet_is_package_data_and_applies():
    import matplotlib.pyplot as plt

    assert tr.plot.style_path().is_file()
    before = plt.rcParams["font.size"]
    with tr.plot.style():
        assert plt.rcParams["font.size"] == 8
        assert plt.rcParams["axes.prop_cycle"].by_key()["color"][0].lower() in ("#0072b2",
                                                                                "0072b2")
    assert plt.rcParams["font.size"] == before


def test_figures_return_axes_and_save(tmp_path):
    import matplotlib.pyplot as plt

    g = tr.TensorGrid.uniform(tr.Box([0, 0, 0], [1, 1, 1]), 6)
    f = tr.Field(np.arange(216.0).reshape(6, 6, 6), g, name="V", units="e/Å")
    with tr.plot.style():
        fig, axes = plt.subplots(1, 2)
        ax = tr.plot.field_slice(f, axis=2, ax=axes[0])
        assert ax is axes[0]
        ax2 = tr.plot.curves_with_band(np.arange(5.0), np.ones(5), std=0.1 * np.ones(5),
                                       ax=axes[1], label="mean")
        assert ax2 is axes[1]
        paths = tr.plot.savefig(fig, tmp_path / "fig")
        plt.close(fig)
        ax3 = tr.plot.scatter_points(tr.PointCloud(np.random.rand(10, 3),
                                                   {"q": np.arange(10.0)}), c="q")
        assert ax3.name == "3d"
        plt.close(ax3.figure)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_field_slice_rejects_1d_grid():
    f = tr.Field(np.zeros(4), tr.TensorGrid.uniform(tr.Box([0], [1]), 4))
    with pytest.raises(ValueError, match="2D or 3D grid"):
        tr.plot.field_slice(f)


def test_curves_with_band_needs_a_band():
    with pytest.raises(ValueError, match="give std, or both lower and upper"):
        tr.plot.curves_with_band(np.arange(3.0), np.zeros(3))


def test_field_slice_center_and_coordinate_units():
    import matplotlib.pyplot as plt

    grid = tr.TensorGrid.uniform(tr.Box([0.0, 0.0], [1.0, 2.0]), 8)
    x, y = grid.meshgrid()
    field = tr.Field(3.0 * x - 0.5, grid)  # values in about [-0.3, 2.3]
    with tr.plot.style():
        ax = tr.plot.field_slice(field, cmap="RdBu_r", center=0.0, coord_units="Å")
        vmin, vmax = ax.collections[0].get_clim()
        assert vmin == -vmax and vmax == pytest.approx(np.max(np.abs(field.values)))
        assert ax.get_xlabel() == "x [Å]" and ax.get_ylabel() == "y [Å]"
        # an explicit range wins over center
        ax2 = tr.plot.field_slice(field, center=0.0, vmin=-1.0, vmax=5.0)
        assert ax2.collections[0].get_clim() == (-1.0, 5.0)
        assert ax2.get_xlabel() == "x"
    plt.close("all")
