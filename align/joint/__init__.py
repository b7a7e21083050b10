"""Joint alignment of three or more versions into one set of rows (see ``consensus`` for the method)."""
from polyalign.align.joint.rows import JointAlignment, Row

__all__ = ["JointAlignment", "Row", "align_joint"]


def align_joint(*args, **kwargs) -> JointAlignment:
    """``align.joint.pipeline.align_joint``, imported on use (it loads the calibration and the pipeline)."""
    from polyalign.align.joint.pipeline import align_joint as run

    return run(*args, **kwargs)
