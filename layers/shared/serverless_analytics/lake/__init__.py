"""The Parquet lake: the row schema (shared with template.yaml's Glue table) and record decoding.

Importing this package imports pyarrow, which only the stream writer (and tools) ship.
"""
