"""Reference data: ROME 4.0 job sheets and titles, communes and postal codes, QPV 2024 contours.

`load` fills the tables of migration 0002 from the reference files, `lookup` queries them, and
`text` holds the label normalisation shared with ingestion.
"""
