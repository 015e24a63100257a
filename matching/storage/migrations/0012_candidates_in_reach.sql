-- Candidates for an offer read every active candidate around it and order them by cosine. The profile vector
-- (1,540 bytes) lives in TOAST: each candidate in reach cost a TOAST index descent and a chunk read, ~5.6 µs, and
-- a platform admin's search in a large city reaches thousands of them (mean 17.6 ms of a 34 ms request on the
-- 100k benchmark). The half-precision copy (776 bytes) keeps the row under the TOAST threshold, so the scan reads
-- it from the row; the best ones are re-ranked with the full vectors, as for offers (matching/matches.py).
ALTER TABLE candidates ADD COLUMN embedding_half halfvec(384)
    GENERATED ALWAYS AS (embedding::halfvec(384)) STORED;

-- The candidates located by their commune (no address point): the spatial index cannot find them cheaply (its
-- scan for `pt IS NULL` read ~460 pages a search on the benchmark).
CREATE INDEX candidates_without_point_idx ON candidates (commune_insee) WHERE status = 'active' AND pt IS NULL;
