# Independent re-implementation of lib/engine/rng.ts (sfc32 seeded through a murmur3-finaliser mixer; FNV-1a seedFrom),
# written from the algorithm as described there; prints the known answers of tests/engine/rng.test.ts.
# Run: python3 tests/engine/rng_reference.py
import math
M=0xFFFFFFFF
def mix_seed(seed):
    s=seed & M
    out=[]
    for _ in range(4):
        s=(s+0x9e3779b9)&M
        z=s
        z=((z^(z>>16))*0x85ebca6b)&M
        z=((z^(z>>13))*0xc2b2ae35)&M
        out.append((z^(z>>16))&M)
    return out
class Sfc32:
    def __init__(self, seed):
        self.a,self.b,self.c,self.d=mix_seed(seed)
        self.spare=None
        for _ in range(12): self.u32()
    def u32(self):
        t=(self.a+self.b+self.d)&M
        self.d=(self.d+1)&M
        self.a=self.b^(self.b>>9)
        self.b=(self.c+((self.c<<3)&M))&M
        self.c=((self.c<<21)&M)|(self.c>>11)
        self.c=(self.c+t)&M
        return t
    def random(self): return self.u32()/4294967296
    def int(self,lo,hi): return lo+math.floor(self.random()*(hi-lo+1))
    def normal(self):
        if self.spare is not None:
            s=self.spare; self.spare=None; return s
        u=0.0
        while u<=2.220446049250313e-16: u=self.random()
        v=self.random()
        r=math.sqrt(-2*math.log(u))
        self.spare=r*math.sin(2*math.pi*v)
        return r*math.cos(2*math.pi*v)
    def permutation(self,n):
        xs=list(range(n))
        for i in range(n-1,0,-1):
            j=math.floor(self.random()*(i+1)); xs[i],xs[j]=xs[j],xs[i]
        return xs
    def fork(self,salt):
        x=self.u32()
        return Sfc32((x ^ (((salt+1)*0x9e3779b1)&M))&M)
def seed_from(*parts):
    h=0x811c9dc5
    for ch in '\u0000'.join(str(p) for p in parts):
        assert ord(ch) <= 0xFFFF  # JS charCodeAt(0) of a BMP character is its code point
        h^=ord(ch)
        h=(h*0x01000193)&M
    return h
r=Sfc32(42); print('u32 seed 42', [r.u32() for _ in range(6)])
r=Sfc32(0); print('u32 seed 0', [r.u32() for _ in range(3)])
r=Sfc32(7); print('random seed 7', [repr(r.random()) for _ in range(3)])
r=Sfc32(1); print('normal seed 1', [repr(r.normal()) for _ in range(4)])
r=Sfc32(3); print('int(0,9) seed 3', [r.int(0,9) for _ in range(10)])
r=Sfc32(5); print('permutation(10) seed 5', r.permutation(10))
r=Sfc32(9); f=r.fork(3); print('fork(3) of seed 9', [f.u32() for _ in range(3)], 'parent next', r.u32())
print('seedFrom', seed_from('img',1), seed_from('dropout',0,3,1), seed_from(''), seed_from('café',7), seed_from('a','bc'), seed_from('ab','c'))
