"""Size budgets of the built site: every page under 1.5 MB, the whole site under 25 MB.

A page's weight is its HTML plus the images it shows (see benchmarks/site_report.py, which
also reports the timing budgets: those depend on the machine, so only make bench checks them).
"""

import pytest

pytestmark = pytest.mark.slow


def test_page_weight(built_site, site_report, site_page):
    weight = site_report.page_weight(built_site, site_page)
    assert weight.total < site_report.PAGE_BUDGET, (
        f"{site_page} weighs {weight.total / 1e6:.2f} MB (HTML {weight.html_bytes / 1e6:.2f} MB, "
        f"{weight.num_images} images {weight.image_bytes / 1e6:.2f} MB); the budget is 1.5 MB. "
        "Shrink its figures (smaller figsize or dpi, fewer animation frames, JPEG frames)."
    )


def test_site_size(built_site, site_report):
    total = site_report.site_bytes(built_site)
    assert total < site_report.SITE_BUDGET, (
        f"The site weighs {total / 1e6:.1f} MB; the budget is 25 MB"
    )
