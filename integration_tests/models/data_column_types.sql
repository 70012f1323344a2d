-- The columns of numeric_window_embeddings with their types on the dev target, plus one
-- column (note) that the test does not list. Literals, not a ref: `dbt build` skips the
-- children of a relation whose test fails, and every data_* relation has failing tests.
select
    'PORTFOLIO' as entity_type,
    'P001' as entity_id,
    cast('{"window_days": 1}' as json) as window_spec,
    date '2025-01-31' as as_of_date,
    'num-portfolio-core-v1' as model_id,
    from_hex(repeat('0000803F', 384)) as vector,  -- noqa: RF04
    cast(null as varchar) as vector_ref,
    timestamptz '2025-02-01 06:00:00+00' as created_at,
    'a column that the test does not list' as note
