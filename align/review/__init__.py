"""``polyalign review``: a local page where a translator checks, fixes and confirms an alignment in its TEI.

``session`` is the document and its edits (saved at once, undoable), ``operations`` the edits on rows,
``sentences`` the segmentation fixes in a version's TEI, ``server`` the local web server, ``static/`` the page.
"""
