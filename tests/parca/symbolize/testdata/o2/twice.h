long twice(long x);
