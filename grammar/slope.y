/* slope.y -- not written yet. */
%define api.pure full
%token END 0
%%
input: %empty ;
%%
