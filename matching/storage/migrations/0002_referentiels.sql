-- Maillage reference data: ROME 4.0 (France Travail), communes with centres and postal codes,
-- QPV 2024 contours (ANCT). Filled by matching.referentiels.load.load_reference_data, which
-- replaces the whole content in one transaction (TRUNCATE + COPY). For that reason operational
-- tables store ROME codes, INSEE codes and QPV codes as plain values, never as foreign keys
-- to these tables: a reload must not be blocked by, nor cascade into, offers or candidates.
-- Geometry uses PostgreSQL's native types (no PostGIS): x = longitude, y = latitude, WGS84.

-- ROME 4.0: domain tree -----------------------------------------------------------------

CREATE TABLE rome_grand_domaines (
    code            char(1) PRIMARY KEY,
    label           text NOT NULL
);

CREATE TABLE rome_domaines (
    code            varchar(3) PRIMARY KEY,          -- e.g. 'A11'
    label           text NOT NULL,
    grand_domaine   char(1) NOT NULL REFERENCES rome_grand_domaines (code)
);

-- ROME 4.0: job sheets (fiches) and job titles (appellations) -----------------------------

CREATE TABLE rome_fiches (
    code_rome           char(5) PRIMARY KEY,
    code_ogr            integer NOT NULL UNIQUE,
    code_fiche_metier   integer,
    label               text NOT NULL,
    label_search        text NOT NULL,          -- normalize_text(label), for autocomplete
    -- ROME 4.0 groups close fiches under a parent fiche (itself for 532 of them).
    code_rome_parent    char(5) REFERENCES rome_fiches (code_rome),
    domaine             varchar(3) NOT NULL REFERENCES rome_domaines (code),
    grand_domaine       char(1) NOT NULL REFERENCES rome_grand_domaines (code),
    emploi_cadre        boolean,
    emploi_reglemente   boolean,
    transition_eco      text,                       -- 'Emploi Vert', 'Emploi Brun', …
    transition_num      boolean,
    transition_demo     boolean,
    riasec_majeur       char(1),
    riasec_mineur       char(1)
);
CREATE INDEX rome_fiches_label_trgm_idx ON rome_fiches USING gin (label_search gin_trgm_ops);

CREATE TABLE rome_appellations (
    code_ogr            integer PRIMARY KEY,
    label               text NOT NULL,
    short_label         text NOT NULL,
    -- normalize_label(label): the key for exact job-offer title → appellation lookup
    -- (masculine form only); label_search keeps both forms for autocomplete.
    label_normalized    text NOT NULL,
    label_search        text NOT NULL,
    code_rome           char(5) NOT NULL REFERENCES rome_fiches (code_rome),
    code_rome_parent    char(5),
    classification      text NOT NULL CHECK (classification IN ('principale', 'synonyme')),
    peu_usite           boolean NOT NULL,
    emploi_cadre        boolean,
    emploi_reglemente   boolean,
    transition_eco      text,
    transition_num      boolean,
    transition_demo     boolean
);
CREATE INDEX rome_appellations_rome_idx ON rome_appellations (code_rome);
CREATE INDEX rome_appellations_normalized_idx ON rome_appellations (label_normalized);
CREATE INDEX rome_appellations_search_trgm_idx ON rome_appellations USING gin (label_search gin_trgm_ops);

-- ROME 4.0: skills, knowledge and work contexts (one code space, the OGR codes) ---------

CREATE TABLE rome_competences (
    code_ogr            integer PRIMARY KEY,
    label               text NOT NULL,
    kind                text NOT NULL
                            CHECK (kind IN ('savoir_faire', 'savoir_etre', 'savoir', 'contexte_travail')),
    -- Macro-skills group skills; a skill points to its macro-skill.
    is_macro            boolean NOT NULL DEFAULT false,
    macro_code          text,                       -- e.g. '4A101', macro-skills only
    macro_code_ogr      integer REFERENCES rome_competences (code_ogr),
    category            text,                       -- 'Technique', 'Normes et procédés', 'Horaires et durée du travail', …
    subcategory         text,
    definition          text,
    transition_eco      boolean,
    transition_num      boolean,
    origin              text                        -- 'PIX' for the digital soft skills
);
CREATE INDEX rome_competences_kind_idx ON rome_competences (kind);

CREATE TABLE rome_fiche_items (
    code_rome           char(5) NOT NULL REFERENCES rome_fiches (code_rome),
    code_ogr            integer NOT NULL REFERENCES rome_competences (code_ogr),
    block               text NOT NULL CHECK (block IN ('competences', 'contextes_travail')),
    rubric              text CHECK (rubric IN ('savoir_faire', 'savoir_etre', 'savoir')),
    -- "Cœur de métier": principal items define the job, emerging ones are on the rise.
    principal           boolean NOT NULL DEFAULT false,
    emergent            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (code_rome, code_ogr),
    CHECK ((block = 'competences') = (rubric IS NOT NULL))
);
CREATE INDEX rome_fiche_items_item_idx ON rome_fiche_items (code_ogr);

CREATE TABLE rome_texts (
    code_rome           char(5) NOT NULL REFERENCES rome_fiches (code_rome),
    kind                text NOT NULL CHECK (kind IN ('definition', 'acces_metier')),
    -- The publisher's sentences in order, one per line.
    text                text NOT NULL,
    PRIMARY KEY (code_rome, kind)
);

CREATE TABLE rome_mobilites (
    code_rome           char(5) NOT NULL REFERENCES rome_fiches (code_rome),
    code_rome_cible     char(5) NOT NULL REFERENCES rome_fiches (code_rome),
    ordre               smallint NOT NULL,
    PRIMARY KEY (code_rome, code_rome_cible),
    CHECK (code_rome <> code_rome_cible)
);
CREATE INDEX rome_mobilites_order_idx ON rome_mobilites (code_rome, ordre);

-- NAF rev. 2 divisions (two digits, '00' = all sectors) where each fiche is found.
CREATE TABLE rome_naf_divisions (
    code                char(2) PRIMARY KEY,
    label               text NOT NULL
);

CREATE TABLE rome_fiche_naf (
    code_rome           char(5) NOT NULL REFERENCES rome_fiches (code_rome),
    naf_division        char(2) NOT NULL REFERENCES rome_naf_divisions (code),
    PRIMARY KEY (code_rome, naf_division)
);
CREATE INDEX rome_fiche_naf_division_idx ON rome_fiche_naf (naf_division);

-- Communes ----------------------------------------------------------------------------------

CREATE TABLE communes (
    insee               varchar(5) PRIMARY KEY,
    name                text NOT NULL,
    name_normalized     text NOT NULL,
    dept                varchar(3) NOT NULL,
    -- Municipal arrondissements of Paris, Lyon and Marseille are listed next to their commune.
    kind                text NOT NULL DEFAULT 'commune' CHECK (kind IN ('commune', 'arrondissement')),
    parent_insee        varchar(5) REFERENCES communes (insee),
    lat                 double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon                 double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    pt                  cube GENERATED ALWAYS AS (ll_to_earth(lat, lon)::cube) STORED,
    -- False where the published centre is known to be wrong (French Polynesia): distances are unreliable.
    centre_reliable     boolean NOT NULL DEFAULT true,
    CHECK ((kind = 'arrondissement') = (parent_insee IS NOT NULL))
);
CREATE INDEX communes_name_trgm_idx ON communes USING gin (name_normalized gin_trgm_ops);
CREATE INDEX communes_pt_idx ON communes USING gist (pt);
CREATE INDEX communes_dept_idx ON communes (dept);

CREATE TABLE commune_postal_codes (
    insee               varchar(5) NOT NULL REFERENCES communes (insee),
    postal_code         varchar(5) NOT NULL CHECK (postal_code ~ '^[0-9]{5}$'),
    is_main             boolean NOT NULL,
    PRIMARY KEY (postal_code, insee)
);
CREATE INDEX commune_postal_codes_insee_idx ON commune_postal_codes (insee);
CREATE UNIQUE INDEX commune_postal_codes_main_idx ON commune_postal_codes (insee) WHERE is_main;

-- Former INSEE codes still found in other datasets (merged communes) → the current commune.
CREATE TABLE commune_aliases (
    old_insee           varchar(5) PRIMARY KEY,
    insee               varchar(5) NOT NULL REFERENCES communes (insee),
    reason              text NOT NULL,
    effective_on        date
);

-- QPV 2024 (priority neighbourhoods) --------------------------------------------------------

CREATE TABLE qpv (
    code                text PRIMARY KEY CHECK (code ~ '^QN[0-9]{2}[0-9AB][0-9]{2}[A-Z]$'),
    label               text NOT NULL,
    dept                varchar(3) NOT NULL,
    -- Current INSEE codes of the communes the QPV spans; communes_published as in the source.
    communes            varchar(5)[] NOT NULL,
    communes_published  varchar(5)[] NOT NULL,
    centroid_lat        double precision NOT NULL,
    centroid_lon        double precision NOT NULL,
    pt                  cube GENERATED ALWAYS AS (ll_to_earth(centroid_lat, centroid_lon)::cube) STORED
);
CREATE INDEX qpv_communes_idx ON qpv USING gin (communes);
CREATE INDEX qpv_pt_idx ON qpv USING gist (pt);

-- One row per ring of each QPV MultiPolygon: a point is in the QPV when it lies in an outer
-- ring and in none of the holes of the same part.
-- Rings are stored in micro-degrees (x = lon × 1e6, y = lat × 1e6): PostgreSQL's geometric
-- operators treat anything within an absolute 1e-6 as "on the boundary", which in plain degrees
-- (cross products of ~1e-3° vectors are ~1e-6) would put many outside points inside a polygon.
CREATE TABLE qpv_rings (
    qpv_code            text NOT NULL REFERENCES qpv (code),
    part                smallint NOT NULL,
    ring                smallint NOT NULL,
    is_hole             boolean NOT NULL,
    shape_microdeg      polygon NOT NULL,
    PRIMARY KEY (qpv_code, part, ring),
    CHECK (is_hole = (ring > 0))
);
CREATE INDEX qpv_rings_shape_idx ON qpv_rings USING gist (shape_microdeg);

-- What was loaded -------------------------------------------------------------------------

CREATE TABLE reference_data_versions (
    dataset             text PRIMARY KEY CHECK (dataset IN ('rome', 'communes', 'qpv')),
    version             text NOT NULL,
    source              text NOT NULL,
    row_count           integer NOT NULL,       -- rows of the dataset's main table
    table_counts        jsonb NOT NULL,         -- rows per table
    files               jsonb NOT NULL,         -- file name → SHA-256 of what was read
    loaded_at           timestamptz NOT NULL DEFAULT now()
);
