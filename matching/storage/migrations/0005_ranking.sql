-- Ranking: the lexical channel of hybrid retrieval (French full-text search without accents)
-- and the indexes the ranking engine and its logs need.

-- unaccent() is only STABLE (its dictionary could change); pinning the dictionary makes it safe to
-- use in a stored generated column and in index expressions.
CREATE FUNCTION maillage_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN public.unaccent('public.unaccent'::regdictionary, $1);

-- Title and ROME label weigh most, then the skills, then the description.
ALTER TABLE offers ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('french'::regconfig,
              maillage_unaccent(title || ' ' || coalesce(appellation_label, ''))), 'A')
    || setweight(to_tsvector('french'::regconfig,
                 maillage_unaccent(jsonb_path_query_array(skills, '$[*].label')::text)), 'B')
    || setweight(to_tsvector('french'::regconfig, maillage_unaccent(left(description, 3000))), 'C')
) STORED;
CREATE INDEX offers_search_tsv_active_idx ON offers USING gin (search_tsv) WHERE status = 'active';

-- Congestion: how often an offer was proposed lately (match items joined to their request's date).
CREATE INDEX match_requests_served_idx ON match_requests (served_at);
CREATE INDEX match_requests_structure_idx ON match_requests (structure_id, served_at);

-- Reverse direction (candidates for an offer): candidates in a box around the offer, the box being the
-- largest commute any active candidate accepts (read from the second index).
CREATE INDEX candidates_pt_active_idx ON candidates USING gist (pt) WHERE status = 'active';
CREATE INDEX candidates_commute_active_idx ON candidates (max_commute_km) WHERE status = 'active';
