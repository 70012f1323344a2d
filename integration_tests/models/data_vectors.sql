-- The vector cases as blobs: odd_hex (one float32, when given) is placed after odd_at
-- copies of fill_hex, followed by the remaining n_fill - odd_at copies. A null fill_hex
-- is a null vector. (`vector`, a keyword to sqlfluff, is the shared tables' column name.)
with

cases as (

    select * from {{ ref('data_vector_cases') }}

)

select
    case_name,
    note,
    case
        when fill_hex is not null
            then from_hex(
                repeat(fill_hex, coalesce(odd_at, 0))
                || coalesce(odd_hex, '')
                || repeat(fill_hex, n_fill - coalesce(odd_at, 0))
            )
    end as vector  -- noqa: RF04

from cases
