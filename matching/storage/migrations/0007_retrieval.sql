-- Retrieval at 100k offers: a half-precision copy of each offer's vector and a spatial index that covers
-- everything the hard filters and the semantic channel read, so that a search around a place reads that
-- index alone (index-only scan, spatially grouped pages) instead of wide offer rows whose vectors live in
-- TOAST. See matching/retrieval.py for the plans that use them.

-- 384 half floats (776 bytes) instead of 1,540: the exact scan and the HNSW graph read half as much. The
-- full-precision vector stays the reference: both plans re-rank their best rows with it.
ALTER TABLE offers ADD COLUMN embedding_half halfvec(384)
    GENERATED ALWAYS AS (embedding::halfvec(384)) STORED;

-- The HNSW graph of wide searches, on the half-precision copy (half the size of the float graph it replaces).
DROP INDEX offers_embedding_active_idx;
CREATE INDEX offers_embedding_half_active_idx ON offers USING hnsw (embedding_half halfvec_cosine_ops)
    WHERE status = 'active';

-- Searchable offers by place, with the filter columns and the vector as payload.
CREATE INDEX offers_retrieval_cover_idx ON offers USING gist (pt)
    INCLUDE (id, contract_type, hours_per_week, part_time, licences, source_id, rome_code, embedding_half)
    WHERE status = 'active' AND embedding IS NOT NULL;
