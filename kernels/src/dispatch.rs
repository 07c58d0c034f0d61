//! Run-time choice of instruction set, made once and kept in a `Copy` handle.

use pulp::{Arch, WithSimd};

/// Environment variable that forces every kernel onto its scalar reference when set to anything
/// but `0` or the empty string.
pub const FORCE_SCALAR_ENV: &str = "LILCOM_FORCE_SCALAR";

/// The instruction set the dispatched kernels run on.
#[derive(Clone, Copy, Debug)]
pub struct Kernels {
    arch: Arch,
    scalar: bool,
    /// AVX-512 with byte permutes (VBMI), for the kernels written for it directly.
    vbmi: bool,
    /// VBMI2's byte compression as well.
    vbmi2: bool,
}

impl Kernels {
    /// The best instruction set this CPU has, unless [`FORCE_SCALAR_ENV`] asks for the scalar
    /// references.
    pub fn detect() -> Self {
        let forced = std::env::var_os(FORCE_SCALAR_ENV).is_some_and(|v| !v.is_empty() && v != "0");
        if forced {
            Self::scalar()
        } else {
            let vbmi = has_vbmi();
            Kernels { arch: Arch::new(), scalar: false, vbmi, vbmi2: vbmi && has_vbmi2() }
        }
    }

    /// The scalar references, on any CPU.
    pub fn scalar() -> Self {
        Kernels { arch: Arch::new(), scalar: true, vbmi: false, vbmi2: false }
    }

    /// The same kernels but those written for AVX-512 with VBMI, which fall back to the AVX2 ones:
    /// to test and measure those on a machine that has VBMI. The results are the same.
    pub fn without_vbmi(self) -> Self {
        Kernels { vbmi: false, vbmi2: false, ..self }
    }

    /// The same kernels but those written for VBMI2 (byte compression), which fall back to the
    /// ones for VBMI or AVX2: to test and measure those on a machine that has VBMI2.
    pub fn without_vbmi2(self) -> Self {
        Kernels { vbmi2: false, ..self }
    }

    /// True when the kernels written for AVX-512 with VBMI (byte permutes across the register)
    /// run: the CPU has them and the scalar references are not forced.
    pub fn has_vbmi(&self) -> bool {
        self.vbmi
    }

    /// True when the kernels written for AVX-512 with VBMI2 as well (byte compression) run: the
    /// CPU has VBMI and VBMI2, and the scalar references are not forced.
    pub fn has_vbmi2(&self) -> bool {
        self.vbmi2
    }

    /// Name of the instruction set in use: `avx512`, `avx2`, `neon` or `scalar`.
    pub fn instruction_set(&self) -> &'static str {
        if self.scalar {
            return "scalar";
        }
        #[cfg(target_arch = "x86_64")]
        {
            match self.arch {
                Arch::V4(_) => "avx512",
                Arch::V3(_) => "avx2",
                _ => "scalar",
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            match self.arch {
                Arch::Scalar => "scalar",
                _ => "neon",
            }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            "scalar"
        }
    }

    /// True when the kernels written for AVX2 directly run: the CPU has it (pulp's x86-64-v3 or
    /// v4) and the scalar references are not forced.
    pub fn has_avx2(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            !self.scalar && matches!(self.arch, Arch::V3(_) | Arch::V4(_))
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// True when kernels run on a vector instruction set.
    pub fn is_vectorized(&self) -> bool {
        self.instruction_set() != "scalar"
    }

    /// Runs `op` compiled for the chosen instruction set.
    #[inline]
    pub(crate) fn run<Op: WithSimd>(&self, op: Op) -> Op::Output {
        if self.scalar {
            op.with_simd(pulp::Scalar::new())
        } else {
            self.arch.dispatch(op)
        }
    }
}

/// Whether this CPU has AVX-512 F, BW, VL, CD and VBMI (every CPU with VBMI has CD).
fn has_vbmi() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512cd")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether this CPU has AVX-512 VBMI2.
fn has_vbmi2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vbmi2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines a `pulp` operation: a struct of the kernel's arguments whose `with_simd` calls the
/// scalar reference, so that [`Kernels::run`] compiles that reference (marked
/// `#[inline(always)]`) inside the dispatched function, with the instruction set's features, for
/// the compiler to vectorize. (A closure in its place can stay an out-of-line call compiled for
/// the baseline: perf showed the lane decoder and writer so, without BMI2's shifts.)
///
/// `simd_op!(Name<'a> { arg: Type, ... } -> Output => call(arg, ...));`
macro_rules! simd_op {
    ($name:ident<$lt:lifetime> { $($field:ident: $ty:ty),* $(,)? } -> $out:ty => $call:expr) => {
        struct $name<$lt> {
            $($field: $ty,)*
            _borrows: ::core::marker::PhantomData<&$lt ()>,
        }

        impl<$lt> ::pulp::WithSimd for $name<$lt> {
            type Output = $out;

            #[inline(always)]
            fn with_simd<S: ::pulp::Simd>(self, _simd: S) -> $out {
                let $name { $($field,)* _borrows } = self;
                $call
            }
        }
    };
}
pub(crate) use simd_op;
