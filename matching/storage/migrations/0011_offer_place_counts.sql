-- Active offers per place cell, for the choice of the retrieval plan (exact scan of the cells, or HNSW walk).
-- The plan was chosen by counting the active offers of the search box on the GiST index, up to 40,001: ~0.45 µs
-- an offer, 10 ms for a 30 km search in Paris on the 100k benchmark, before the search itself. Summing these
-- counts over the cells of the circle takes a few lookups. The view is refreshed after each ingestion run, each
-- embedding batch and each expiry sweep (matching.storage.offers.refresh_place_counts); between two refreshes
-- a stale count only changes which plan runs, never the results (the HNSW plan falls back to the exact one when
-- its walk comes back short).
CREATE MATERIALIZED VIEW offer_place_counts AS
SELECT place_cell, count(*)::integer AS offers
FROM offers
WHERE status = 'active' AND embedding IS NOT NULL AND place_cell IS NOT NULL
GROUP BY place_cell;

-- Unique: REFRESH ... CONCURRENTLY needs it, and readers are not blocked during a refresh.
CREATE UNIQUE INDEX offer_place_counts_cell_idx ON offer_place_counts (place_cell) INCLUDE (offers);
