{#- The tidy feature table: one usable (group, key, value) per row. The encoders see
    exactly these rows; feature_name is what they hash. -#}

select
    state_idx,
    portfolio_id,
    as_of_date,
    report_id,
    feature_group,
    feature_key,
    feature_name,
    feature_value
from {{ ref('int_portfolio_feature_entries') }}
where reject_reason is null
