-- The ROME codes leading to an offer's code (the reverse direction's mobility feature, `OFFER_FOR_MATCHING`) were
-- found by a sequential scan of the 14,912 mobility pairs: ~0.7 ms of each request for the candidates of an offer.
CREATE INDEX rome_mobilites_target_idx ON rome_mobilites (code_rome_cible);
