{#- One row per risk report, as the platform stores it: names and types only. Which
    report a portfolio state is encoded from is decided in int_portfolio_states. -#}

with

source as (

    select * from {{ source('portfolio_risk', 'portfolio_risk_reports') }}

),

renamed as (

    select
        report_id,
        portfolio_id,
        as_of_date,
        portfolio_value,
        cash,
        net_exposure,
        gross_exposure,
        leverage,
        -- the JSON columns stay as the source holds them (JSON, text, or a map/struct):
        -- the feature entries parse each document once
        risk_metrics,
        scenario_pnl,
        exposures_by_sector,
        exposures_by_factor,
        metadata,
        created_at
    from source

)

select * from renamed
