/* tensor_value.c -- not written yet. */
typedef int sl_tensor_value_stub_;
