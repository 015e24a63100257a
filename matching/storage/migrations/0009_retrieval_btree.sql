-- The exact retrieval plan's index becomes a B-tree keyed by contract type, then a grid cell of the place.
--
-- 1. Place cells. A radius search reads the cells that cover its circle (matching/geo.py: place_cells), then
--    keeps the offers within the radius (cube_distance on pt, as before). On the 100k benchmark a B-tree
--    index-only scan of the cells read a dense area's offers ~1.8× faster than the GiST box scan it replaces
--    (fewer pages: entries are packed in key order; cheaper per entry). The cell arithmetic is geo.place_cell's.
-- 2. The lexical channel without reading the table: the job titles and skills (search_tsv's A and B weights; the
--    lexical query is made of the candidate's job labels and skills) get their own vector, carried by the index,
--    where ranking the filtered offers' texts meant one probe of the table per offer (~4 µs each, up to 1,500 a
--    search). Lengths are capped so that an entry stays below the B-tree's limit (2,704 bytes).
CREATE FUNCTION maillage_place_cell(lat double precision, lon double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((floor(lat * 20) + 1800) * 8000 + (floor(lon * 20) + 4000))::integer;

ALTER TABLE offers
    ADD COLUMN place_cell integer GENERATED ALWAYS AS (maillage_place_cell(lat, lon)) STORED,
    ADD COLUMN lexical_tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('french'::regconfig,
                  maillage_unaccent(left(title || ' ' || coalesce(appellation_label, ''), 200))), 'A')
        || setweight(to_tsvector('french'::regconfig,
                     maillage_unaccent(left(jsonb_path_query_array(skills, '$[*].label')::text, 600))), 'B')
    ) STORED;

DROP INDEX offers_retrieval_cover_idx;
CREATE INDEX offers_retrieval_cover_idx ON offers USING btree (contract_type, place_cell)
    INCLUDE (id, pt, hours_per_week, part_time, licences, source_id, rome_code, embedding_half, lexical_tsv)
    WHERE status = 'active' AND embedding IS NOT NULL;
