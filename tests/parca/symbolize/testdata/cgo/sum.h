long checked_sum(const long *v, int n);
long scaled(long x, long k);
