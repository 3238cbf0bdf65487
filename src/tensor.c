/* tensor.c -- not written yet. */
typedef int sl_tensor_stub_;
