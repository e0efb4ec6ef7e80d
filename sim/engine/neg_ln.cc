#include "sim/engine/neg_ln.h"

namespace ctsim {

namespace {

// Row j of the table: the reduction factor c = ceil(2^63 * 256 / (256 + j))
// (Q1.63, at most 1) and L = -log2(c / 2^63) (Q0.64, rounded to nearest),
// computed with 80 significant decimal digits. For m in [1 + j/256,
// 1 + (j+1)/256), m * c lies in [1, 1 + 2^-8 + 2^-63).
struct LogRow {
  uint64_t c;
  uint64_t neg_log2_c;
};
constexpr LogRow kLogTable[256] = {
    {0x8000000000000000ull, 0x0000000000000000ull}, {0x7f807f807f807f81ull, 0x01709c46d7aac773ull},
    {0x7f01fc07f01fc080ull, 0x02dfca16dde10a2dull}, {0x7e8472a807e8472bull, 0x044d8c45ea5ec311ull},
    {0x7e07e07e07e07e08ull, 0x05b9e5a170b48a62ull}, {0x7d8c42b2836ed5d3ull, 0x0724d8eea143e199ull},
    {0x7d1196792909c560ull, 0x088e68ea899a0976ull}, {0x7c97d9108c2ad433ull, 0x09f6984a342d130full},
    {0x7c1f07c1f07c1f08ull, 0x0b5d69bac77ec398ull}, {0x7ba71fe1163807bbull, 0x0cc2dfe1a4a8ca2full},
    {0x7b301ecc07b301edull, 0x0e26fd5c8555af7aull}, {0x7aba01eae807aba1ull, 0x0f89c4c19929cfceull},
    {0x7a44c6afc2dd9ca9ull, 0x10eb389fa29f9ab1ull}, {0x79d06a965d43919cull, 0x124b5b7e135a3c87ull},
    {0x795ceb240795ceb3ull, 0x13aa2fdd27f1c2d6ull}, {0x78ea45e77069ccfeull, 0x1507b836033bb6d2ull},
    {0x7878787878787879ull, 0x1663f6fac913167bull}, {0x7807807807807808ull, 0x17beee96b8a2813bull},
    {0x77975b8fe21a291dull, 0x1918a16e46335aabull}, {0x7728077280772808ull, 0x1a7111df348493eaull},
    {0x76b981dae6076b99ull, 0x1bc84240adabba61ull}, {0x764bc88c79fe26d1ull, 0x1d1e34e35b82da4dull},
    {0x75ded952e0b0ce46ull, 0x1e72ec117fa5b21dull}, {0x7572b201d5cac808ull, 0x1fc66a0f0b00a48eull},
    {0x7507507507507508ull, 0x2118b119b4f3c72aull}, {0x749cb28ff16c69afull, 0x2269c369120c5bfbull},
    {0x7432d63dbb01d0ccull, 0x23b9a32eaa56f6bbull}, {0x73c9b97112ff186dull, 0x250852960f4c7f19ull},
    {0x73615a240e6c2b45ull, 0x2655d3c4f15c343dull}, {0x72f9b658072f9b66ull, 0x27a228db3514c7deull},
    {0x7292cc157b864408ull, 0x28ed53f307ee9a60ull}, {0x722c996bee290808ull, 0x2a375720f4b9148full},
    {0x71c71c71c71c71c8ull, 0x2b803473f7ad0f3cull}, {0x7162534435261708ull, 0x2cc7edf592262cfaull},
    {0x70fe3c070fe3c071ull, 0x2e0e85a9de04fe53ull}, {0x709ad4e4ba80709bull, 0x2f53fd8fa0bbbde2ull},
    {0x70381c0e070381c1ull, 0x309857a05e0765fbull}, {0x6fd60fba1a362bb0ull, 0x31db95d06a56d76aull},
    {0x6f74ae26501bdd2cull, 0x331dba0efce1be04ull}, {0x6f13f59620f9ece9ull, 0x345ec6464170d593ull},
    {0x6eb3e45306eb3e46ull, 0x359ebc5b69d927ddull}, {0x6e5478ac63fc8d5dull, 0x36dd9e2ebf2bd2d5ull},
    {0x6df5b0f768ce2cacull, 0x381b6d9bb29bdc81ull}, {0x6d978b8efbb8148dull, 0x39582c78ee1b912cull},
    {0x6d3a06d3a06d3a07ull, 0x3a93dc9864b2df91ull}, {0x6cdd212b601b3749ull, 0x3bce7fc762901dc1ull},
    {0x6c80d901b2036407ull, 0x3d0817ce9cd4998full}, {0x6c252cc7648a8fa2ull, 0x3e40a672411e4e8dull},
    {0x6bca1af286bca1b0ull, 0x3f782d7204d01444ull}, {0x6b6fa1fe52417807ull, 0x40aeae8934198eebull},
    {0x6b15c06b15c06b16ull, 0x41e42b6ec0c025bbull}, {0x6abc74be1faff2a9ull, 0x4318a5d550aa3a92ull},
    {0x6a63bd81a98ef607ull, 0x444c1f6b4c2dd72bull}, {0x6a0b9944c3856297ull, 0x457e99daec23fd65ull},
    {0x69b4069b4069b407ull, 0x46b016ca47c1c149ull}, {0x695d041da2292856ull, 0x47e097db62384caeull},
    {0x6906906906906907ull, 0x49101eac381ce608ull}, {0x68b0aa1f1472813bull, 0x4a3eacd6cc9a0d89ull},
    {0x685b4fe5e92c0686ull, 0x4b6c43f1366abdbbull}, {0x6806806806806807ull, 0x4c98e58daca0d66aull},
    {0x67b23a5440cf6475ull, 0x4dc4933a9337b365ull}, {0x675e7c5dada0b4e6ull, 0x4eef4e828773ea54ull},
    {0x670b453b92840671ull, 0x501918ec6c1125d6ull}, {0x66b893a954436921ull, 0x5141f3fb753f0e53ull},
    {0x6666666666666667ull, 0x5269e12f346e2bf7ull}, {0x6614bc363b03fcd0ull, 0x5390e203a3eda7edull},
    {0x65c393e032e1c9f1ull, 0x54b6f7f1325acdf4ull}, {0x6572ec2f8ddeb64bull, 0x55dc246ccde32ac2ull},
    {0x6522c3f35ba78195ull, 0x570068e7ef5a1e7dull}, {0x64d319fe6cb39807ull, 0x5823c6d0a522b659ull},
    {0x6483ed274388a357ull, 0x59463f919dee9b92ull}, {0x64353c48064353c5ull, 0x5a67d4923352e1a1ull},
    {0x63e7063e7063e707ull, 0x5b8887367433795bull}, {0x639949ebc4dcfc1dull, 0x5ca858df2f060a4dull},
    {0x634c0634c0634c07ull, 0x5dc74ae9fbecef8full}, {0x62ff3a018bfce807ull, 0x5ee55eb146ab115bull},
    {0x62b2e43dafcea68eull, 0x6002958c587150caull}, {0x626703d80626703eull, 0x611ef0cf6186371dull},
    {0x621b97c2aec12653ull, 0x623a71cb82c89692ull}, {0x61d09ef3024ae3baull, 0x635519ced70dc6acull},
    {0x6186186186186187ull, 0x646eea247c5c22cfull}, {0x613c0309e0184f01ull, 0x6587e4149d026e33ull},
    {0x60f25deacafb74a4ull, 0x66a008e4788cbcd1ull}, {0x60a928060a928061ull, 0x67b759d66c977e22ull},
    {0x6060606060606061ull, 0x68cdd829fd814274ull}, {0x6018060180601807ull, 0x69e3851bdefbd146ull},
    {0x5fd017f405fd0180ull, 0x6af861e5fc7d2384ull}, {0x5f889545693c746full, 0x6c0c6fbf8190d197ull},
    {0x5f417d05f417d060ull, 0x6d1fafdce20a828dull}, {0x5eface48b805efadull, 0x6e32236fe219e65cull},
    {0x5eb4882383b30d52ull, 0x6f43cba79e40c2abull}, {0x5e6ea9aed8e62dbeull, 0x7054a9b0932b96ffull},
    {0x5e293205e293205full, 0x7164beb4a56d59f7ull}, {0x5de420466b1834d1ull, 0x72740bdb291ecf4bull},
    {0x5d9f7390d2a6c406ull, 0x73829248e961f325ull}, {0x5d5b2b0805d5b2b1ull, 0x749053202fc9f546ull},
    {0x5d1745d1745d1746ull, 0x759d4f80cba83bf8ull}, {0x5cd3c31507fa32c4ull, 0x76a98888193ee404ull},
    {0x5c90a1fd1b7af018ull, 0x77b4ff5108d93137ull}, {0x5c4de1b671f0229eull, 0x78bfb4f425ca6035ull},
    {0x5c0b81702e05c0b9ull, 0x79c9aa879d53482eull}, {0x5bc9805bc9805bcaull, 0x7ad2e11f456f394eull},
    {0x5b87ddad0cdf1b2dull, 0x7bdb59cca38881f2ull}, {0x5b46989a072183edull, 0x7ce3159ef3150340ull},
    {0x5b05b05b05b05b06ull, 0x7dea15a32c1b3b37ull}, {0x5ac5242a8c68f3f2ull, 0x7ef05ae409a0288eull},
    {0x5a84f3454dca4110ull, 0x7ff5e66a0ffe6ae5ull}, {0x5a451cea2342ff4cull, 0x80fab93b9326ff8full},
    {0x5a05a05a05a05a06ull, 0x81fed45cbccbf99bull}, {0x59c67cd8059c67ceull, 0x830238cf927591f3ull},
    {0x5987b1a9448be406ull, 0x8404e793fb81ea91ull}, {0x59493e14ed2a8ce8ull, 0x8506e1a7c70fddffull},
    {0x590b21642c8590b3ull, 0x86082806b1d532c0ull}, {0x58cd5ae22b037806ull, 0x8708bbaa6be0889cull},
    {0x588fe9dc0588fe9eull, 0x88089d8a9e4753d8ull}, {0x5852cda0c6ba4eaaull, 0x8907ce9cf0c03969ull},
    {0x5816058160581606ull, 0x8a064fd50f2a1cefull}, {0x57d990d0a4b7ef88ull, 0x8b042224af003039ull},
    {0x579d6ee340579d6full, 0x8c01467b94bb5275ull}, {0x57619f0fb38a94d3ull, 0x8cfdbdc799210b88ull},
    {0x572620ae4c415c99ull, 0x8df988f4ae806f1cull}, {0x56eaf3191fea4544ull, 0x8ef4a8ece5dd30c1ull},
    {0x56b015ac056b015bull, 0x8fef1e9874093211ull}, {0x567587c48f32a8deull, 0x90e8eaddb6acd189ull},
    {0x563b48c20563b48dull, 0x91e20ea1393e403dull}, {0x5601580560158057ull, 0x92da8ac5b9e822b0ull},
    {0x55c7b4f141ace689ull, 0x93d2602c2e5fc02bull}, {0x558e5ee9f14b87b0ull, 0x94c98fb3c8ab028full},
    {0x5555555555555556ull, 0x95c01a39fbd6879dull}, {0x551c979aee0bf806ull, 0x96b6009a809c0322ull},
    {0x54e42523d03fab1cull, 0x97ab43af59f930a1ull}, {0x54abfd5aa0152b00ull, 0x989fe450d9b791cdull},
    {0x54741fab8be05475ull, 0x9993e355a4e53640ull}, {0x543c8b84471315b8ull, 0x9a874192b83ec742ull},
    {0x5405405405405406ull, 0x9b79ffdb6c8b11ffull}, {0x53ce3d8b75326a12ull, 0x9c6c1f017ae8493dull},
    {0x5397829cbc14e5e1ull, 0x9d5d9fd5010b3665ull}, {0x53610efb70b12e40ull, 0x9e4e832485709116ull},
    {0x532ae21c96bdb9d4ull, 0x9f3ec9bcfb80b356ull}, {0x52f4fb769a3f8391ull, 0xa02e7469c7a5df5dull},
    {0x52bf5a814afd6a06ull, 0xa11d83f4c3554b35ull}, {0x5289feb5d80528a0ull, 0xa20bf926410b256dull},
    {0x5254e78ecb419ba9ull, 0xa2f9d4c51039c525ull}, {0x5220148805220149ull, 0xa3e71796812c3718ull},
    {0x51eb851eb851eb86ull, 0xa4d3c25e68dc57eeull}, {0x51b738d165819895ull, 0xa5bfd5df24bcabdfull},
    {0x51832f1fd73e6871ull, 0xa6ab52d99e76224full}, {0x514f678b1ddb2806ull, 0xa7963a0d4f99f3b6ull},
    {0x511be1958b67ebbaull, 0xa8808c384547c6ebull}, {0x50e89cc2afb93477ull, 0xa96a4a1723c84a77ull},
    {0x50b59897547e1bbfull, 0xaa5374652a1c6d8bull}, {0x5082d49979654490ull, 0xab3c0bdc358163d6ull},
    {0x5050505050505051ull, 0xac241134c4e99e19ull}, {0x501e0b443995981aull, 0xad0b8525fc6ae15aull},
    {0x4fec04fec04fec05ull, 0xadf26865a8a1a557ull}, {0x4fba3d0a96bc1b69ull, 0xaed8bba84209e24aull},
    {0x4f88b2f392a409f2ull, 0xafbe7fa0f04d75c2ull}, {0x4f576646a9d716f0ull, 0xb0a3b5018d8844cbull},
    {0x4f265691eeaf9d11ull, 0xb1885c7aa98241ffull}, {0x4ef583648ca5520cull, 0xb26c76bb8cdf7cc0ull},
    {0x4ec4ec4ec4ec4ec5ull, 0xb35004723c465e69ull}, {0x4e9490e1eb208984ull, 0xb433064b7b7c39bcull},
    {0x4e6470b061fd8cddull, 0xb5157cf2d078503eull}, {0x4e348b4d982236fdull, 0xb5f76912866d705cull},
    {0x4e04e04e04e04e05ull, 0xb6d8cb53b0ca4ecbull}, {0x4dd56f472517b708ull, 0xb7b9a45e2e30bd34ull},
    {0x4da637cf781d1e55ull, 0xb899f4d8ab63df28ull}, {0x4d77397e7cabe088ull, 0xb979bd68a62d7e5bull},
    {0x4d4873ecade304d5ull, 0xba58feb2703a9e35ull}, {0x4d19e6b3804d19e7ull, 0xbb37b95931ef6e6eull},
    {0x4ceb916d5ef2c784ull, 0xbc15edfeed32bbd9ull}, {0x4cbd73b5a877e805ull, 0xbcf39d448030fe25ull},
    {0x4c8f8d28ac42fd9cull, 0xbdd0c7c9a817204dull}, {0x4c61dd63a7aed805ull, 0xbead6e2d03c52201ull},
    {0x4c346404c346404dull, 0xbf89910c1678ae86ull}, {0x4c0720ab100980e5ull, 0xc06531034a6fc644ull},
    {0x4bda12f684bda130ull, 0xc1404eadf38396dcull}, {0x4bad3a87fb452c58ull, 0xc21aeaa651bb9dbcull},
    {0x4b8097012e025c05ull, 0xc2f5058593d93083ull}, {0x4b542804b542804cull, 0xc3ce9fe3d9db85f0ull},
    {0x4b27ed3604b27ed4ull, 0xc4a7ba58377c5a00ull}, {0x4afbe63968dc43f5ull, 0xc5805578b6a54708ull},
    {0x4ad012b404ad012cull, 0xc65871da59dded98ull}, {0x4aa4724bcf0414ffull, 0xc73010111eb3043cull},
    {0x4a7904a7904a7905ull, 0xc80730b0001667f0ull}, {0x4a4dc96ee0129373ull, 0xc8ddd448f8b845a2ull},
    {0x4a22c04a22c04a23ull, 0xc9b3fb6d055974e5ull}, {0x49f7e8e2873935bfull, 0xca89a6ac27171b36ull},
    {0x49cd42e2049cd42full, 0xcb5ed69565afaf7bull}, {0x49a2cdf358049a2dull, 0xcc338bb6d1c1742aull},
    {0x497889c2024bc44full, 0xcd07c69d87027ef0ull}, {0x494e75fa45dec873ull, 0xcddb87d5ae72641full},
    {0x4924924924924925ull, 0xceaecfea80859b31ull}, {0x48fade5c5d816ce7ull, 0xcf819f66474ab28bull},
    {0x48d159e26af37c05ull, 0xd053f6d26089672full}, {0x48a8048a8048a805ull, 0xd125d6b73fdbb555ull},
    {0x487ede0487ede049ull, 0xd1f73f9c70c0f681ull}, {0x4855e60121579805ull, 0xd2c8320898ab212dull},
    {0x482d1c319f03621eull, 0xd398ae8179063de7ull}, {0x4804804804804805ull, 0xd468b58bf13a2593ull},
    {0x47dc11f7047dc120ull, 0xd53847ac00a69be4ull}, {0x47b3d0f1fee130bdull, 0xd6076564c899d93eull},
    {0x478bbcecfee1d10dull, 0xd6d60f388e419687ull}, {0x4763d59cb92af20full, 0xd7a445a8bc96ad59ull},
    {0x473c1ab68a0473c2ull, 0xd8720935e6435ebcull}, {0x47148bf073816367ull, 0xd93f5a5fc7845235ull},
    {0x46ed29011bb4a405ull, 0xda0c39a548045ec9ull}, {0x46c5f19fcaeb8ac9ull, 0xdad8a7847cb32f30ull},
    {0x469ee58469ee5847ull, 0xdba4a47aa996d258ull}, {0x4678046780467805ull, 0xdc703104439848e7ull},
    {0x46514e02328a7012ull, 0xdd3b4d9cf24b2076ull}, {0x462ac20e40af6ae6ull, 0xde05fabf91b02c8aull},
    {0x4604604604604605ull, 0xded038e633f36da5ull}, {0x45de28646f5a1061ull, 0xdf9a088a232535e2ull},
    {0x45b81a2509cde3aeull, 0xe0636a23e2ee9b13ull}, {0x45923543f0c8045aull, 0xe12c5e2b32414557ull},
    {0x456c797dd49c3412ull, 0xe1f4e5170d02a998ull}, {0x4546e68ff757232full, 0xe2bcff5dadb2be84ull},
    {0x45217c382b34eda4ull, 0xe384ad748f0e3b01ull}, {0x44fc3a34d11c9071ull, 0xe44befd06dac6c35ull},
    {0x44d72044d72044d8ull, 0xe512c6e54998b1abull}, {0x44b22e27b702aef6ull, 0xe5d9332667e7ad75ull},
    {0x448d639d74c0cda9ull, 0xe69f35065448360eull}, {0x4468c0669d2099ecull, 0xe764ccf6e29017e9ull},
    {0x4444444444444445ull, 0xe829fb693044b395ull}, {0x441feef80441fef0ull, 0xe8eec0cda61f8647ull},
    {0x43fbc043fbc043fcull, 0xe9b31d93f98ea94aull}, {0x43d7b7eacc9686a1ull, 0xea77122b2e315592ull},
    {0x43b3d5af9a723f79ull, 0xeb3a9f01975077f0ull}, {0x4390195609804391ull, 0xebfdc484d9536238ull},
    {0x436c82a23d1a5664ull, 0xecc08321eb30a619ull}, {0x43491158d678e74cull, 0xed82db4517db2539ull},
    {0x4325c53ef368eb05ull, 0xee44cd59ffab62efull}, {0x43029e1a2d05c23aull, 0xef0659cb99c52332ull},
    {0x42df9bb096771e4eull, 0xefc781043579625cull}, {0x42bcbdc8bbb2d5c5ull, 0xf088436d7ba4b14dull},
    {0x429a0429a0429a05ull, 0xf148a170700a00f9ull}, {0x42776e9abe0d8043ull, 0xf2089b7572a9e8d4ull},
    {0x4254fce404254fcfull, 0xf2c831e4411672adull}, {0x4232aecdd5978805ull, 0xf3876523f7c3772dull},
    {0x4210842108421085ull, 0xf446359b1353954cull}, {0x41ee7ca6e3ab8671ull, 0xf504a3af71e1cf6eull},
    {0x41cc98291fdf19b4ull, 0xf5c2afc65447d86aull}, {0x41aad671e44bed88ull, 0xf6805a445f611ab8ull},
    {0x4189374bc6a7ef9eull, 0xf73da38d9d4a83eaull}, {0x4167ba81c9d6198dull, 0xf7fa8c057e9f1e30ull},
    {0x41465fdf5cd01052ull, 0xf8b7140edbb181d7ull}, {0x41252730599315e3ull, 0xf9733c0bf5c22853ull},
    {0x4104104104104105ull, 0xfa2f045e7832aa6dull}, {0x40e31ade091fefc8ull, 0xfaea6d6779b5f2e4ull},
    {0x40c246d47d78693cull, 0xfba577877d7d6ebbull}, {0x40a193f1dca7a318ull, 0xfc60231e74634471ull},
    {0x4081020408102041ull, 0xfd1a708bbe119b12ull}, {0x406090d945e8dd4cull, 0xfdd4602e2a26f9fdull},
    {0x4040404040404041ull, 0xfe8df263f957ca11ull}, {0x4020100804020101ull, 0xff47278ade8d012cull},
};

// 2^64 / k, rounded: the coefficients of the ln(1 + y) series; 1/ln(2) in Q1.63.
constexpr uint64_t kInv3 = 6148914691236517205ull, kInv4 = 4611686018427387904ull, kInv5 = 3689348814741910323ull,
                   kInv6 = 3074457345618258603ull, kInv7 = 2635249153387078802ull;
constexpr uint64_t kInvLn2Q63 = 13306513097844322492ull;

inline uint64_t mulhi(uint64_t a, uint64_t b) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
}

}  // namespace

uint64_t neg_ln_q32_exact(uint32_t x) {
  if (x == 0) x = 1;
  int msb = 31;
  while (((x >> msb) & 1u) == 0) --msb;
  uint64_t m = static_cast<uint64_t>(x) << (62 - msb);  // Q1.62, in [1, 2)
  uint64_t frac = 0;                                    // log2(m), Q0.32
  for (int i = 31; i >= 0; --i) {
    const unsigned __int128 sq = static_cast<unsigned __int128>(m) * m;  // Q2.124
    m = static_cast<uint64_t>(sq >> 62);
    if (m >= (2ull << 62)) {
      m >>= 1;
      frac |= 1ull << i;
    }
  }
  return neg_ln_from_log2(msb, frac);
}

uint64_t neg_ln_q32(uint32_t x) {
  if (x == 0) x = 1;
  const int msb = 31 - __builtin_clz(x);
  const uint32_t t = x << (31 - msb);  // m = t / 2^31 in [1, 2)
  const LogRow& row = kLogTable[(t >> 23) & 0xff];
  // r = m * c in [1, 1 + 2^-8 + 2^-63): y = r - 1 in Q0.64 (y < 2^56).
  const unsigned __int128 r = static_cast<unsigned __int128>(t) * row.c;  // Q2.94
  const uint64_t y = static_cast<uint64_t>((r - (static_cast<unsigned __int128>(1) << 94)) >> 30);
  // ln(1 + y) = y - y^2 (1/2 - y (1/3 - y (1/4 - y (1/5 - y (1/6 - y/7))))) + O(y^8);
  // every bracket is positive (y < 2^-8), y^8 < 2^-64.
  uint64_t p = kInv6 - mulhi(y, kInv7);
  p = kInv5 - mulhi(y, p);
  p = kInv4 - mulhi(y, p);
  p = kInv3 - mulhi(y, p);
  p = (1ull << 63) - mulhi(y, p);
  const uint64_t ln = y - mulhi(y, mulhi(y, p));
  const uint64_t log2_r = static_cast<uint64_t>((static_cast<unsigned __int128>(ln) * kInvLn2Q63) >> 63);
  // log2(m) in Q0.64, within 2^-60 of the true value (truncations of the
  // steps above and the table's rounding); below 1 - 2^-31.4, so no carry out.
  const uint64_t log2_m = log2_r + row.neg_log2_c;
  // neg_ln_q32_exact's bits are floor(2^32 log2(m')) for an m' within a
  // relative 2^-61 below m (its squarings truncate): the same as
  // floor(2^32 log2(m)) unless 2^32 log2(m) lies within 2^-28 above an
  // integer. Where the estimate is that close to an integer (1 input in
  // 2^19), the exact method decides.
  const uint32_t low = static_cast<uint32_t>(log2_m);
  if (low < (1u << 12) || low > ~0u - (1u << 12)) return neg_ln_q32_exact(x);
  return neg_ln_from_log2(msb, log2_m >> 32);
}

}  // namespace ctsim
