-- data_column_types without one of the listed columns.
select * exclude (vector_ref)  -- noqa: AM04
from {{ ref('data_column_types') }}
