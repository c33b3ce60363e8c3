"""Tour sections: one module per technique, each with ``tour_rows(ctx)`` and
``make_figures(ctx, outdir)`` (see :mod:`minicompress.pipeline`)."""
