/* dtype.h -- tensor element types, shared by tensor.c and tensor_print.c. */
#ifndef SL_DTYPE_H
#define SL_DTYPE_H

typedef enum SlDType {
    SL_DT_F32,   /* float (torch.float32, the default) */
    SL_DT_F64,   /* double (torch.float64) */
    SL_DT_I64,   /* int64_t (torch.int64) */
    SL_DT_BOOL,  /* bool (torch.bool) */
    SL_DT_MPFR   /* mpfr_t at a precision of the tensor's (slope's own) */
} SlDType;

#endif
