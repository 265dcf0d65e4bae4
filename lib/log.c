/* placeholder: being written */
typedef int splitdrv_placeholder_t;
