-- The covering index of the exact retrieval plan, keyed by contract type first, then place. Its pages are the
-- cost of a search in a dense area (about 9 offers a page, all read from the box): with the contract type as
-- the leading key the tree groups each contract's offers apart, so a search for some contract types reads
-- only their pages (one index scan per wanted type, see matching/retrieval.py). A search without a contract
-- filter reads the same pages as before. btree_gist provides the GiST operators of the text key.
CREATE EXTENSION IF NOT EXISTS btree_gist;

DROP INDEX offers_retrieval_cover_idx;
CREATE INDEX offers_retrieval_cover_idx ON offers USING gist (contract_type, pt)
    INCLUDE (id, hours_per_week, part_time, licences, source_id, rome_code, embedding_half)
    WHERE status = 'active' AND embedding IS NOT NULL;
